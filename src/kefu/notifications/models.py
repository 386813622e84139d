"""A notification for one staff member, kept until read (and after, as history)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db import Base, UtcDateTime


class StaffNotification(Base):
    """``body`` is written in the recipient's language when raised; ``link`` is the console
    page that deals with it (the inbox, a case, the approval queue)."""

    __tablename__ = "staff_notification"
    __table_args__ = (
        Index("ix_staff_notification_staff_id_id", "staff_id", "id"),
        Index("ix_staff_notification_staff_id_read_at", "staff_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    kind: Mapped[str] = mapped_column(String(24))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
