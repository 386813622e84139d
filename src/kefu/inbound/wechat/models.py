"""WeChat followers (their OpenID and the conversation they are in) and the customer-service
messages (客服消息) waiting to reach them.

A follower's OpenID is only known to WeChat and to us; nothing else in Kefu has a place for
it, hence the table. Replies written by an agent cannot ride on WeChat's webhook answer (it
is gone once the follower's message has been answered), so each one waits in
``wechat_outgoing`` until the customer-service API took it: a restart or an API outage delays
a reply, never drops it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db import Base, UtcDateTime


class WeChatFollower(Base):
    __tablename__ = "wechat_follower"

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    # the follower's current conversation; a closed one is replaced on the next message
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversation.id"), index=True)
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WeChatOutgoing(Base):
    """A chat message (an agent's reply, a notice such as "agent joined") for a follower.

    ``status``: ``queued`` → ``sending`` → ``sent``, or ``failed`` once every try is spent
    or WeChat refused it for good (the follower unsubscribed, the 48-hour window closed);
    ``last_error`` says why.
    """

    __tablename__ = "wechat_outgoing"
    __table_args__ = (Index("ix_wechat_outgoing_status_updated_at", "status", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    follower_id: Mapped[int] = mapped_column(ForeignKey("wechat_follower.id"), index=True)
    chat_message_id: Mapped[int] = mapped_column(ForeignKey("chat_message.id"), unique=True)
    status: Mapped[str] = mapped_column(String(8))  # queued | sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class WeChatNonce(Base):
    """A signed request's (timestamp, nonce) and the body it came with, kept for the
    signature window: the same signed URL with another body is a replay (``kefu.channels.
    wechat.nonces``). In the database, so every web process sees every nonce."""

    __tablename__ = "wechat_nonce"
    __table_args__ = (
        UniqueConstraint("timestamp", "nonce", name="uq_wechat_nonce_timestamp_nonce"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    timestamp: Mapped[str] = mapped_column(String(12))
    nonce: Mapped[str] = mapped_column(String(64))
    body_sha256: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
