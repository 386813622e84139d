"""Messages Kefu sends by SMS and e-mail, recorded whatever the backend."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db import Base, UtcDateTime


class OutboxMessage(Base):
    """Every SMS and e-mail Kefu sends, whatever the backend; the outbox backend stops here."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))  # sms | email
    destination: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(4000))
    purpose: Mapped[str] = mapped_column(String(32))  # otp | case_update | survey ...
    backend: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
