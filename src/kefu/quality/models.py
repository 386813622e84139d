"""Quality tables: the contact events everything is measured from, the per-contact facts
derived from them, the rollups the dashboard reads, surveys, follow-up tasks and QA reviews.

``contact_event`` is append-only: the facts and rollups can always be rebuilt from it
(``kefu quality rebuild``). ``quality_contact`` holds one row per contact (a conversation, a
call, a queue item or a case opened directly) with what happened to it; ``quality_rollup``
sums those facts by period, channel, category and agent so no figure scans events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kefu.db import Base, UtcDateTime, utcnow
from kefu.quality import metrics

_BIGINT = BigInteger().with_variant(Integer, "sqlite")


class ContactEvent(Base):
    """One timestamped fact about a contact, recorded by the domain where it happened."""

    __tablename__ = "contact_event"
    __table_args__ = (
        Index("ix_contact_event_at", "at"),
        Index("ix_contact_event_contact_id_at", "contact_id", "at"),
    )

    id: Mapped[int] = mapped_column(_BIGINT, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    channel: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    contact_id: Mapped[int] = mapped_column(ForeignKey("quality_contact.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversation.id"))
    call_sid: Mapped[str | None] = mapped_column(String(64))
    # the routing work item; no foreign key, so quality does not depend on routing's tables
    work_item_id: Mapped[int | None] = mapped_column(Integer)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    category: Mapped[str | None] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class QualityContact(Base):
    """One contact and what happened to it, folded from its events.

    A contact is what one arrival started: a conversation, a call, a queue item, or a case
    opened directly (e-mail, web form). ``started_at`` (the arrival, else the first event)
    decides the period every figure of the contact is counted in; ``staff_id`` is the agent
    the outcome belongs to (the last person who answered, replied or resolved).
    """

    __tablename__ = "quality_contact"
    __table_args__ = (
        Index("ix_quality_contact_customer_id_started_at", "customer_id", "started_at"),
        Index("ix_quality_contact_started_at", "started_at"),
        # the repeat checks look only at a customer's contacts near one contact in time
        Index(
            "ix_quality_contact_customer_id_followed_by_repeat",
            "customer_id",
            "followed_by_repeat",
            "repeat_until",
        ),
        Index("ix_quality_contact_customer_id_is_repeat", "customer_id", "is_repeat", "started_at"),
    )

    id: Mapped[int] = mapped_column(_BIGINT, primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    channel: Mapped[str] = mapped_column(String(12))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    category: Mapped[str | None] = mapped_column(String(40))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    # told by the cases domain on its events, so surveys and lists can name the case
    case_reference: Mapped[str | None] = mapped_column(String(20))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    bot_answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    handed_over_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_reply_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    transfers: Mapped[int] = mapped_column(Integer, default=0)
    reopens: Mapped[int] = mapped_column(Integer, default=0)
    actions: Mapped[int] = mapped_column(Integer, default=0)
    # None: no commitment applies; True/False: the case met or missed its committed time
    within_sla: Mapped[bool | None] = mapped_column(Boolean)
    is_repeat: Mapped[bool] = mapped_column(Boolean, default=False)
    followed_by_repeat: Mapped[bool] = mapped_column(Boolean, default=False)
    # the last start a later contact on the same problem counts as its repeat: the first
    # resolution (else the start) plus the repeat window; kept by facts.refresh_repeats
    repeat_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    survey_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    survey_score: Mapped[int | None] = mapped_column(Integer)
    survey_solved: Mapped[bool | None] = mapped_column(Boolean)
    callbacks_requested: Mapped[int] = mapped_column(Integer, default=0)
    callbacks_done: Mapped[int] = mapped_column(Integer, default=0)
    # time people spent on it, all stretches together (for QA sampling)
    handle_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The contact's stretches, read once per session and then kept in step by
    # ``kefu.quality.facts`` (the one writer of segments), so folding each event of a
    # contact does not read them again. View-only: segments are added and deleted as rows.
    segments: Mapped[list[QualitySegment]] = relationship(
        viewonly=True, order_by="QualitySegment.id", lazy="select"
    )


class QualityContactRef(Base):
    """Every identifier a contact is known by (``conv:12``, ``call:CA…``, ``work:7``,
    ``case:9``), so an event naming any of them finds the same contact. ``case:<id>`` points
    at the case's latest contact."""

    __tablename__ = "quality_contact_ref"

    ref: Mapped[str] = mapped_column(String(80), primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("quality_contact.id"), index=True)


class QualitySegment(Base):
    """One stretch with one person: queued (maybe), answered by ``staff_id``, ended by a
    transfer, the end of the contact or its resolution. Abandoned if the customer left the
    queue first. Wait and handle time are measured per segment."""

    __tablename__ = "quality_segment"

    id: Mapped[int] = mapped_column(_BIGINT, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("quality_contact.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    abandoned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    wait_seconds: Mapped[float | None] = mapped_column(Float)  # queued to answered
    # after-call work reported by the channel, added to the handle time
    wrap_seconds: Mapped[float] = mapped_column(Float, default=0.0)


class QualityRollup(Base):
    """Sums of contact facts per period, channel, category and agent (the figures' inputs).

    ``grain`` is ``slot`` (half an hour, all agents together), ``day`` (a local day, all
    agents together), ``agent`` (a local day, per agent) or ``month`` (a local month, per
    agent: a year by agent reads 12 rows an agent, not 365). ``channel`` and ``category``
    are ``*`` on the rows that sum every channel or category (``metrics.ALL``);
    ``category`` is ``""`` and ``staff_id`` ``0`` where none applies, so the key has no
    NULLs and upserts stay simple. The counters are ``metrics.COUNTERS``, histograms of
    waits and first responses included, and each row is kept equal to the sum over its
    contacts: when a contact changes, its old contribution is taken off and its new one
    added.
    """

    __table__ = Table(
        "quality_rollup",
        Base.metadata,
        Column("id", _BIGINT, primary_key=True),
        Column("grain", String(8), nullable=False),
        Column("period_start", UtcDateTime, nullable=False),
        Column("channel", String(12), nullable=False),
        Column("category", String(40), nullable=False),
        Column("staff_id", Integer, nullable=False),
        *(
            # a default in the database, so an upsert names only the counters it changes
            Column(
                name,
                Float if name in metrics.SUMS else Integer,
                nullable=False,
                server_default=text("0"),
            )
            for name in metrics.COUNTERS
        ),
        # equalities first, then the period: a question is a few index ranges, never a scan
        UniqueConstraint(
            "grain", "channel", "category", "period_start", "staff_id", name="uq_quality_rollup_key"
        ),
    )


class QualitySurvey(Base):
    """A satisfaction survey (满意度调查) for one resolved contact, on the customer's channel.

    ``scheduled`` until ``due_at``, then ``sent`` (for a chat, the card is shown; for SMS
    and keypad, ``step`` is the question waiting for a digit), then ``answered`` once —
    or ``expired`` at ``expires_at``, or ``cancelled`` when the problem came back before it
    went out. ``token`` is the capability in the chat card and the e-mail link.
    """

    __tablename__ = "quality_survey"
    __table_args__ = (
        Index("ix_quality_survey_status_due_at", "status", "due_at"),
        Index("ix_quality_survey_customer_id_status", "customer_id", "status"),
    )

    id: Mapped[int] = mapped_column(_BIGINT, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("quality_contact.id"), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversation.id"), index=True)
    call_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(8))  # chat | sms | keypad | email
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(10))
    step: Mapped[str | None] = mapped_column(String(10))
    junk_replies: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    answered_via: Mapped[str | None] = mapped_column(String(8))
    score: Mapped[int | None] = mapped_column(Integer)
    solved: Mapped[bool | None] = mapped_column(Boolean)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    comment: Mapped[str | None] = mapped_column(Text)  # masked
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class SurveyOptOut(Base):
    """A customer who asked for no more surveys (退订); honoured on every channel."""

    __tablename__ = "survey_opt_out"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), primary_key=True)
    via: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class QualitySetting(Base):
    """Settings managers change in the console (the survey's questions and timing), as
    JSON under a name; defaults live in code."""

    __tablename__ = "quality_setting"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(String(120))


class QualityTask(Base):
    """A follow-up (跟进) a supervisor owes a customer: opened by a low survey score, or by
    a supervisor from a review. Done on time when ``done_at`` ≤ ``due_at``."""

    __tablename__ = "quality_task"
    __table_args__ = (
        Index("ix_quality_task_status_due_at", "status", "due_at"),
        Index("ix_quality_task_due_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # low_score | review
    status: Mapped[str] = mapped_column(String(8))  # open | done
    contact_id: Mapped[int] = mapped_column(ForeignKey("quality_contact.id"), index=True)
    survey_id: Mapped[int | None] = mapped_column(ForeignKey("quality_survey.id"), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))  # the agent
    channel: Mapped[str] = mapped_column(String(12))
    category: Mapped[str | None] = mapped_column(String(40))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    summary: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class QaReview(Base):
    """A QA scorecard (质检): a supervisor's review of one contact against the rubric.

    ``sampled`` when drawn into a review sample (``sample_reason`` says why it was picked),
    ``done`` once scored. ``scores`` maps each rubric criterion to 1–5; ``total`` is the
    weighted percentage.
    """

    __tablename__ = "qa_review"
    __table_args__ = (Index("ix_qa_review_staff_id_status", "staff_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("quality_contact.id"), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    status: Mapped[str] = mapped_column(String(8))
    sample_reason: Mapped[str] = mapped_column(String(16))
    scores: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    comments: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    summary: Mapped[str | None] = mapped_column(Text)
    total: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
