"""Mail received, kept raw until it is safely a case message (the case's thread of
Message-IDs is ``kefu.channels.email.models.EmailMessage``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, LargeBinary, String, Text
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
