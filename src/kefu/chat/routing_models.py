"""Routing tables: who can take work (agent profiles) and the work waiting for them.

A ``WorkItem`` is one thing a person must handle — a chat handed over by the assistant, a
phone call waiting in the hotline queue, a call-back the caller asked for, an e-mail. It
lives until an agent finishes it or the customer goes away; ``WorkItemEvent`` keeps what
happened to it (queued, offered, missed, accepted, transferred and why, finished) so the
supervisor sees the history and the wait estimate can use real handle times.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db import Base, UtcDateTime, utcnow


class AgentProfile(Base):
    """One per staff member who takes live work: presence, skills and capacity."""

    __tablename__ = "agent_profile"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), primary_key=True)
    presence: Mapped[str] = mapped_column(String(8), default="offline")  # online|away|offline
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    # an empty list means every category (a generalist)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    tiers: Mapped[list[str]] = mapped_column(JSON, default=list)
    capacity: Mapped[int] = mapped_column(Integer, default=3)  # concurrent chats
    missed_offers: Mapped[int] = mapped_column(Integer, default=0)  # in a row
    presence_changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_assigned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class WorkItem(Base):
    __tablename__ = "work_item"
    __table_args__ = (
        Index("ix_work_item_status_tier_language", "status", "tier", "language"),
        Index("ix_work_item_status_finished_at", "status", "finished_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # chat | call | callback | email
    # waiting → offered → assigned → finished; waiting/offered/assigned → cancelled
    status: Mapped[str] = mapped_column(String(10))
    language: Mapped[str] = mapped_column(String(8))
    category: Mapped[str] = mapped_column(String(40))
    tier: Mapped[str] = mapped_column(String(16))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversation.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    call_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    # what the agent sees first: intent, facts collected, what was verified, a summary
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # a transfer to a named agent: only they are offered the item until they miss it
    target_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    offered_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    offered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # agents whose offer lapsed or who declined; skipped while anyone else can take it
    passed_by: Mapped[list[int]] = mapped_column(JSON, default=list)
    assigned_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    # a chat customer whose every window closed while waiting: after a grace period the
    # item is cancelled as abandoned (a reload reconnects well within it)
    customer_away_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    enqueued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    assigned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(String(40))
    transfers: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class WorkItemEvent(Base):
    __tablename__ = "work_item_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("work_item.id"), index=True)
    # queued | offered | missed | declined | accepted | transferred | cancelled | finished
    kind: Mapped[str] = mapped_column(String(12))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
