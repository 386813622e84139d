"""Case tables. Text a customer or agent wrote is stored only after ``kefu.sensitive.mask``."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kefu.db import Base, UtcDateTime, utcnow

if TYPE_CHECKING:
    from kefu.identity.models import Customer


class Case(Base):
    """One customer problem from first contact to closing (工单).

    The SLA targets and calendar are copied from the policy when the case opens, so the
    committed time told to the customer does not move when an admin edits the policy later.
    ``first_response_due_at`` and ``resolution_due_at`` are None while a pause leaves them
    unknown.
    """

    __tablename__ = "case"
    __table_args__ = (
        Index("ix_case_status_resolution_warn_at", "status", "resolution_warn_at"),
        Index("ix_case_status_first_response_warn_at", "status", "first_response_warn_at"),
        Index("ix_case_customer_id_created_at", "customer_id", "created_at"),
        # the case views page through these orders (kefu.cases.views)
        Index("ix_case_updated_at_id", "updated_at", "id"),
        Index("ix_case_created_at_id", "created_at", "id"),
        Index("ix_case_resolution_due_at_id", "resolution_due_at", "id"),
        Index("ix_case_owner_id_status_updated_at", "owner_id", "status", "updated_at", "id"),
        Index("ix_case_status_updated_at_id", "status", "updated_at", "id"),
        Index("ix_case_category_updated_at_id", "category", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    # read only: ``customer_id`` is what is stored (a new case is told to the customer's
    # columns read for it, ``identity.service.customer_contact``, with no object loaded)
    customer: Mapped[Customer] = relationship(viewonly=True)
    category: Mapped[str] = mapped_column(String(40))
    priority: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(24), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8))
    tier: Mapped[str] = mapped_column(String(16), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    # a duplicate merged into another case: its reference leads there from then on
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    resolution_code: Mapped[str | None] = mapped_column(String(24))
    device_model: Mapped[str | None] = mapped_column(String(80))
    device_os: Mapped[str | None] = mapped_column(String(80))
    app_version: Mapped[str | None] = mapped_column(String(40))
    # the SLA as committed when the case opened
    sla_calendar: Mapped[str] = mapped_column(String(16))
    first_response_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    pause_on_customer: Mapped[bool] = mapped_column(Boolean)
    progress_every_hours: Mapped[int | None] = mapped_column(Integer)
    first_response_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolution_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    committed_at: Mapped[datetime] = mapped_column(UtcDateTime)  # told to the customer
    first_responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # when the scheduler should warn that a target is about to be missed
    first_response_warn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolution_warn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_response_warned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolution_warned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_response_breached_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolution_breached_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    escalation_count: Mapped[int] = mapped_column(Integer, default=0)
    last_customer_update_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_owner_reminder_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_activity_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CaseEvent(Base):
    """The timeline: every message, note, status change, action and call, with who and when.

    ``visibility`` is ``public`` (the customer sees it when tracking) or ``internal``
    (notes, escalations, reminders: staff only). ``data`` is JSON for the kind's details.
    """

    __tablename__ = "case_event"
    __table_args__ = (Index("ix_case_event_case_id_id", "case_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    kind: Mapped[str] = mapped_column(String(24))
    visibility: Mapped[str] = mapped_column(String(10))
    actor: Mapped[str] = mapped_column(String(120))
    actor_role: Mapped[str] = mapped_column(String(40))
    body: Mapped[str | None] = mapped_column(Text)
    data: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CaseLink(Base):
    """A wallet item the case is about, by the wallet port's id: no foreign key crosses it."""

    __tablename__ = "case_link"
    __table_args__ = (UniqueConstraint("case_id", "kind", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # transaction | topup | refund | dispute
    external_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CaseAttachment(Base):
    __tablename__ = "case_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    visibility: Mapped[str] = mapped_column(String(10))
    uploaded_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CasePause(Base):
    """A stretch of time when the SLA clock of a case stood still (waiting on the customer)."""

    __tablename__ = "case_pause"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CaseNotification(Base):
    """Something a person must be told about a case: an escalation, a breach warning, a
    reminder, a progress update. Customer messages go out at once through the SMS / e-mail
    senders (``outbox_message_id``); staff ones wait in the console until read."""

    __tablename__ = "case_notification"
    __table_args__ = (
        Index("ix_case_notification_staff_user_id_read_at", "staff_user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    recipient: Mapped[str] = mapped_column(String(16))  # owner | supervisor | customer
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    channel: Mapped[str] = mapped_column(String(10))  # console | sms | email
    body: Mapped[str] = mapped_column(Text)
    outbox_message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_message.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SlaPolicy(Base):
    """Targets per category and priority, edited by admins. ``calendar`` is ``24x7`` or
    ``business`` (the hours in ``KEFU_BUSINESS_HOURS``)."""

    __tablename__ = "sla_policy"
    __table_args__ = (UniqueConstraint("category", "priority"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(40))
    priority: Mapped[str] = mapped_column(String(10))
    first_response_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    calendar: Mapped[str] = mapped_column(String(16))
    pause_on_customer: Mapped[bool] = mapped_column(Boolean)
    progress_every_hours: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(String(120))


class CaseSavedView(Base):
    """An agent's named case list: the query string of the views page, filters and sort."""

    __tablename__ = "case_saved_view"
    __table_args__ = (UniqueConstraint("staff_user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    name: Mapped[str] = mapped_column(String(60))
    query: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class BusinessHours(Base):
    """The business-hours calendar as admins set it in the console (one row); without it
    ``KEFU_BUSINESS_HOURS`` holds. ``version`` refuses an edit made on a stale copy."""

    __tablename__ = "business_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    spec: Mapped[str] = mapped_column(String(200))  # "mon-fri 09:00-18:00, sat 10:00-16:00"
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(String(120))


class BusinessHoliday(Base):
    """A day the business-hours clock does not run (as well as ``KEFU_BUSINESS_HOLIDAYS``)."""

    __tablename__ = "business_holiday"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    name: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(120))
