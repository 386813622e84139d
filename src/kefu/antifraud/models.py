"""Anti-fraud tables: the registry of official channels and known scams with every version
kept, scam reports with their evidence, daily look-up counts, genuine outbound calls and
the scam flags raised on conversations and cases."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
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
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db import Base, UtcDateTime, utcnow

VALUE_LENGTH = 300


class RegistryEntry(Base):
    """One official channel or one known scam, keyed by its normal form.

    ``status`` ``official`` entries are ours (``public`` ones are listed on Contact us);
    ``scam`` entries were reported and confirmed, with ``source`` and ``reported_on``. A
    removed entry is ``active`` false, never deleted, so its history stays readable.
    """

    __tablename__ = "antifraud_entry"
    __table_args__ = (
        UniqueConstraint("kind", "normalised"),
        Index("ix_antifraud_entry_status_kind", "status", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # phone | domain | email | wechat | ...
    role: Mapped[str] = mapped_column(String(16))  # hotline | outbound | sms | website | ...
    status: Mapped[str] = mapped_column(String(12))  # official | scam
    value: Mapped[str] = mapped_column(String(VALUE_LENGTH))  # as shown to people
    normalised: Mapped[str] = mapped_column(String(VALUE_LENGTH))
    label_zh: Mapped[str] = mapped_column(String(120), default="")
    label_en: Mapped[str] = mapped_column(String(120), default="")
    notes_zh: Mapped[str] = mapped_column(String(500), default="")
    notes_en: Mapped[str] = mapped_column(String(500), default="")
    toll_free: Mapped[bool | None] = mapped_column(Boolean)
    cost_zh: Mapped[str] = mapped_column(String(200), default="")
    cost_en: Mapped[str] = mapped_column(String(200), default="")
    hours_zh: Mapped[str] = mapped_column(String(100), default="")
    hours_en: Mapped[str] = mapped_column(String(100), default="")
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=100)
    source: Mapped[str] = mapped_column(String(200), default="")
    reported_on: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RegistryVersion(Base):
    """Every state an entry has had: ``data`` is the whole entry after the change."""

    __tablename__ = "antifraud_entry_version"
    __table_args__ = (UniqueConstraint("entry_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("antifraud_entry.id"))
    version: Mapped[int] = mapped_column(Integer)
    change: Mapped[str] = mapped_column(String(16))  # create | update | retire | restore
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    edited_by: Mapped[str] = mapped_column(String(120))
    edited_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ScamReport(Base):
    """All reports of one value, counted; a specialist confirms or rejects them once."""

    __tablename__ = "antifraud_report"
    __table_args__ = (
        UniqueConstraint("kind", "normalised"),
        Index("ix_antifraud_report_status_last_reported_at", "status", "last_reported_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    normalised: Mapped[str] = mapped_column(String(VALUE_LENGTH))
    value: Mapped[str] = mapped_column(String(VALUE_LENGTH))
    status: Mapped[str] = mapped_column(String(12))  # pending | confirmed | rejected
    report_count: Mapped[int] = mapped_column(Integer, default=0)
    first_reported_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_reported_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reviewed_by: Mapped[str | None] = mapped_column(String(120))
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    review_note: Mapped[str | None] = mapped_column(Text)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("antifraud_entry.id"))


class ScamReportItem(Base):
    """One person's report: what happened, in their words (masked), and from whom.

    ``client_hash`` is an HMAC of the reporter's address or customer id: it lets a repeat
    from the same person be recognised without keeping the address.
    """

    __tablename__ = "antifraud_report_item"
    __table_args__ = (
        Index("ix_antifraud_report_item_report_id_client", "report_id", "client_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("antifraud_report.id"))
    description: Mapped[str] = mapped_column(Text, default="")
    lang: Mapped[str] = mapped_column(String(8))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    client_hash: Mapped[str | None] = mapped_column(String(64))
    counted: Mapped[bool] = mapped_column(Boolean, default=True)  # False: a same-day repeat
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ScamReportFile(Base):
    """A screenshot sent with a report; the bytes live in ``kefu.storage``."""

    __tablename__ = "antifraud_report_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("antifraud_report_item.id"), index=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LookupDay(Base):
    """How often a value was checked on one local day, by how many different people:
    a jump is the early warning of a new scam wave."""

    __tablename__ = "antifraud_lookup_day"
    __table_args__ = (
        UniqueConstraint("day", "kind", "normalised"),
        Index("ix_antifraud_lookup_day_normalised_day", "normalised", "day"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    normalised: Mapped[str] = mapped_column(String(VALUE_LENGTH))
    lookups: Mapped[int] = mapped_column(Integer, default=0)
    clients: Mapped[int] = mapped_column(Integer, default=0)
    verdict: Mapped[str] = mapped_column(String(16))  # the latest answer given
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LookupClient(Base):
    """Who already counted for a value and day, as an HMAC, so ``clients`` counts people."""

    __tablename__ = "antifraud_lookup_client"
    __table_args__ = (UniqueConstraint("lookup_id", "client_hash"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    lookup_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("antifraud_lookup_day.id")
    )
    client_hash: Mapped[str] = mapped_column(String(32))


class OutboundCall(Base):
    """A call an agent makes or is about to make to a customer, so the customer can ask
    "is this really you?" and get a true answer."""

    __tablename__ = "antifraud_outbound_call"
    __table_args__ = (
        Index("ix_antifraud_outbound_call_customer_id_window_end", "customer_id", "window_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    agent_name: Mapped[str] = mapped_column(String(120))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    case_reference: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(300))
    caller_number: Mapped[str] = mapped_column(String(32))  # an official number, E.164
    window_start: Mapped[datetime] = mapped_column(UtcDateTime)
    window_end: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(12))  # planned | cancelled
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ScamFlag(Base):
    """Scam signals seen in a customer's message: a specialist follows it up, and agents
    see it on the conversation and the case."""

    __tablename__ = "antifraud_flag"
    __table_args__ = (Index("ix_antifraud_flag_status_created_at", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversation.id"), index=True)
    case_reference: Mapped[str | None] = mapped_column(String(20), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    kinds: Mapped[list[str]] = mapped_column(JSON)
    excerpt: Mapped[str] = mapped_column(String(500))  # masked
    status: Mapped[str] = mapped_column(String(12))  # open | handled
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    handled_by: Mapped[str | None] = mapped_column(String(120))
    handled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    handling_note: Mapped[str | None] = mapped_column(Text)
