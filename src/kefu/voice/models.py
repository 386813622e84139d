"""Hotline tables: the menu tree (versioned), every call with its events, call-backs owed,
and the prompts rendered to audio.

Caller numbers are kept masked on calls; a keyed hash (``caller_key``) is enough to see a
caller ring again. The full number is stored only where Kefu must dial it: a call-back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, column_property, mapped_column

from kefu.db import Base, UtcDateTime, utcnow


class VoiceMenu(Base):
    """One published version of the menu tree; the highest version is the live one.

    A call keeps the version it started with, so an edit never strands a caller halfway
    down a branch that no longer exists.
    """

    __tablename__ = "voice_menu"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    tree: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class VoiceMenuDraft(Base):
    """The one draft of the menu tree admins edit in the console before publishing it.

    It always holds (a tree with problems is refused, never saved). ``lock_version`` goes
    up with every save and publish, so an edit made on a stale copy is refused;
    ``based_on`` is the published version the draft started from.
    """

    __tablename__ = "voice_menu_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    tree: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    lock_version: Mapped[int] = mapped_column(Integer)
    based_on: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class VoiceMenuTrial(Base):
    """A simulated call an admin placed to try the draft: the draft as it was then, for
    that one call only. Carrier calls never have one (their ids are not the simulator's),
    so they always run the published menu."""

    __tablename__ = "voice_menu_trial"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    tree: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    started_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class VoiceCall(Base):
    """A call from its first webhook to its status callback, and what happened in it.

    ``node`` and ``step`` are where the caller is in the menu; ``seq`` numbers the prompts
    sent, and every action URL carries it, so a replayed or stale request is recognised
    and does nothing. ``state`` holds what the current step collected.
    """

    __tablename__ = "voice_call"
    __table_args__ = (Index("ix_voice_call_status_started_at", "status", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    provider: Mapped[str] = mapped_column(String(16))
    caller_masked: Mapped[str] = mapped_column(String(32))
    caller_key: Mapped[str] = mapped_column(String(64), index=True)
    dialled: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    # how the customer was found: "caller_id" (registered phone), "account" (typed, then
    # an SMS code) or "questions" (typed, then security questions)
    identified_by: Mapped[str | None] = mapped_column(String(16))
    verification_id: Mapped[int | None] = mapped_column(ForeignKey("verification.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    language: Mapped[str | None] = mapped_column(String(8))
    menu_version: Mapped[int] = mapped_column(Integer)
    node: Mapped[str] = mapped_column(String(40))
    step: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    invalid_count: Mapped[int] = mapped_column(Integer, default=0)
    silent_count: Mapped[int] = mapped_column(Integer, default=0)
    path: Mapped[list[str]] = mapped_column(JSON, default=list)
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # ivr | queued | agent | ended
    status: Mapped[str] = mapped_column(String(12))
    outcome: Mapped[str | None] = mapped_column(String(24))
    category: Mapped[str | None] = mapped_column(String(40))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    work_item_id: Mapped[int | None] = mapped_column(ForeignKey("work_item.id"), index=True)
    queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    queue_wait_seconds: Mapped[int | None] = mapped_column(Integer)
    agent_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    agent_answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    case_reference: Mapped[str | None] = mapped_column(String(40))
    reference_told: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(Text)
    survey_score: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_request_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    # the digest of the call's menu version, read with the row: every webhook needs the
    # tree, and a process that has parsed it then needs no second query
    menu_digest: Mapped[str | None] = column_property(
        select(VoiceMenu.digest).where(VoiceMenu.version == menu_version).scalar_subquery()
    )


class VoiceCallEvent(Base):
    """Everything a call went through, in order: keys pressed (never a code), menus
    entered, verifications, self-service answers, queueing, stale requests."""

    __tablename__ = "voice_call_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("voice_call.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class VoiceCallback(Base):
    """A call-back the caller asked for instead of waiting: a task in the agents' queue.

    ``number`` is the full E.164 number because an agent has to dial it; views show
    ``number_masked`` and reading the full number is audited.
    """

    __tablename__ = "voice_callback"
    __table_args__ = (Index("ix_voice_callback_status_requested_at", "status", "requested_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("voice_call.id"), unique=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    number_masked: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    category: Mapped[str] = mapped_column(String(40))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12))  # requested | done | cancelled
    work_item_id: Mapped[int | None] = mapped_column(ForeignKey("work_item.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    outcome: Mapped[str | None] = mapped_column(String(24))
    notes: Mapped[str | None] = mapped_column(Text)


class VoicePrompt(Base):
    """A text the hotline speaks, by the key its audio is cached and served under.

    Prompts that carry a customer's figures (a balance) are pruned once unused for
    ``KEFU_VOICE_PROMPT_KEEP_DAYS``; the menu's own prompts come back on next use.
    """

    __tablename__ = "voice_prompt"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    voice: Mapped[str] = mapped_column(String(24))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
