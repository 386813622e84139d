"""The Message-IDs of every mail in a case's thread, in both directions, which is how
replies find their case; outgoing ones wait here for the send job. Mail as received is
``kefu.inbound.email.models.InboundMail``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db import Base, UtcDateTime


class EmailMessage(Base):
    """A mail in a case's thread. Incoming ones point at their ``inbound_mail``; outgoing
    ones (replies, acknowledgements) wait here as ``queued`` until the send job hands them to
    the relay, so a restart or a relay outage delays a reply but never drops it."""

    __tablename__ = "email_message"
    __table_args__ = (Index("ix_email_message_status_updated_at", "status", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_reference: Mapped[str] = mapped_column(String(20), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(250))
    references: Mapped[str | None] = mapped_column(Text)  # space-separated Message-IDs
    address: Mapped[str] = mapped_column(String(254))  # the customer's side: from or to
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)  # outgoing text, masked like the case
    purpose: Mapped[str] = mapped_column(String(32))  # customer_mail | reply | acknowledgement
    status: Mapped[str] = mapped_column(String(10))  # received | queued | sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    inbound_mail_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_mail.id"))
    outbox_message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_message.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
