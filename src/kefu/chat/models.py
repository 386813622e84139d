"""Conversation tables shared by the assistant and live chat.

A conversation starts with the assistant (``status`` ``bot``), may be handed over to a
person (``queued`` → ``active``) and ends ``closed``. Messages are numbered per
conversation (``seq``) so a client that reconnects asks for everything after the last
number it saw and never gets a message twice; ``client_msg_id`` makes a resent message a
no-op. Text is stored only after ``kefu.sensitive.mask``; one-time codes typed into the
chat are never stored at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db import Base, UtcDateTime, utcnow


class Conversation(Base):
    __tablename__ = "conversation"
    __table_args__ = (Index("ix_conversation_status_updated_at", "status", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # names the conversation to its client (in URLs and frames): long and random, not a secret
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    # the sha256 of the owner key given once to the web client that started it: the id
    # names the conversation, the key proves it is yours (``service.for_owner``); none for
    # WeChat, SMS and phone conversations, which the web cannot reach
    owner_key_hash: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))  # web | app | wechat | sms | cli | email
    language: Mapped[str] = mapped_column(String(8))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))  # bot | queued | active | closed
    intent: Mapped[str | None] = mapped_column(String(40))
    # the assistant's dialog state: current flow, step, collected slots, misses in a row
    bot_state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # the verification that proved who the customer is, and when (fresh = recent)
    verification_id: Mapped[int | None] = mapped_column(ForeignKey("verification.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    assigned_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    # urgent hand-overs (stolen account, scam) go to the front of every queue
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    scam_flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    # the last message copied onto the case's timeline (``service.copy_to_case``)
    case_synced_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    handed_over_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ChatMessage(Base):
    __tablename__ = "chat_message"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_chat_message_seq"),
        UniqueConstraint("conversation_id", "client_msg_id", name="uq_chat_message_client_msg_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id"))
    seq: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str] = mapped_column(String(12))  # customer | bot | agent | system
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    text: Mapped[str] = mapped_column(Text)
    # what a client needs besides text: intent and confidence, quick replies, input kind
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)  # agents' notes
    client_msg_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
