"""Mail received (kept raw until it is safely a case message) and the Message-IDs of every
mail in a case's thread, in both directions, which is how replies find their case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db import Base, UtcDateTime


class InboundMail(Base):
    """One mail as it arrived by SMTP or IMAP.

    ``status``: ``received`` (stored, waiting for its job), ``processed`` (a message on
    ``case_reference``), ``unverified`` (processed, but the sender is no registered customer)
    or ``failed`` (``error`` says why; the raw bytes stay for a person). ``raw`` is emptied
    once processed: the case holds the masked text, and the raw mail would still hold the
    card numbers or codes the masking removed.
    """

    __tablename__ = "inbound_mail"
    __table_args__ = (Index("ix_inbound_mail_status_received_at", "status", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(8))  # smtp | imap
    message_id: Mapped[str | None] = mapped_column(String(250), index=True)
    from_address: Mapped[str] = mapped_column(String(254))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(200))  # masked
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(12))
    error: Mapped[str | None] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(Text)  # JSON: attachments refused and why
    case_reference: Mapped[str | None] = mapped_column(String(20), index=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


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
