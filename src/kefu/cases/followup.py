"""Follow-up (跟进): the owner is reminded of cases left waiting, and the customer hears
about progress before they have to ask.

- Owner reminders: a case pending on the customer or a third party with no activity for
  ``KEFU_CASE_REMINDER_HOURS``.
- Progress messages: every ``progress_every_hours`` (from the SLA policy) on long cases, and
  at once when a third party (the bank's trace) answers.
- Resolved cases close themselves after ``KEFU_CASE_AUTOCLOSE_DAYS``.

``sweep`` runs these and the escalation scan; the job runner calls it on a timer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kefu import audit
from kefu.cases import conversation, escalation, notify, service, timeline
from kefu.cases.models import Case
from kefu.cases.transitions import FINISHED, PENDING, Mover, Status
from kefu.channels.senders import Senders
from kefu.config import Settings
from kefu.db import utcnow
from kefu.i18n import normalise_lang, translate
from kefu.identity import service as identity_service

SYSTEM = audit.Actor.system()


@dataclass
class SweepReport:
    escalation: escalation.ScanReport = field(default_factory=escalation.ScanReport)
    reminded: list[str] = field(default_factory=list)
    progress_sent: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)


def remind_owners(db: Session, *, settings: Settings, now: datetime) -> list[str]:
    quiet_since = now - timedelta(hours=settings.case_reminder_hours)
    query = select(Case).where(
        Case.status.in_([s.value for s in PENDING]),
        Case.owner_id.is_not(None),
        Case.last_activity_at <= quiet_since,
        or_(Case.last_owner_reminder_at.is_(None), Case.last_owner_reminder_at <= quiet_since),
    )
    reminded = []
    staff = {user.id: user for user in identity_service.list_staff(db)}
    for case in db.scalars(query.order_by(Case.id)):
        assert case.owner_id is not None
        lang = normalise_lang(staff[case.owner_id].language) or "zh-CN"
        status_name = translate(f"case.status.{case.status}", lang)
        notify.notify_staff(
            db,
            case,
            kind="reminder",
            recipient="owner",
            staff_user_id=case.owner_id,
            body=translate(
                "case.owner_reminder", lang, reference=case.reference, status=status_name
            ),
            now=now,
            actor=SYSTEM,
        )
        case.last_owner_reminder_at = now
        reminded.append(case.reference)
    return reminded


def send_progress(
    db: Session,
    case: Case,
    *,
    settings: Settings,
    senders: Senders,
    now: datetime,
    news: str | None = None,
) -> bool:
    status_name = translate(f"case.status.{case.status}", notify.case_lang(case))
    sent = notify.notify_customer(
        db,
        case,
        kind="progress",
        text_key="case.progress_with_news" if news else "case.progress",
        now=now,
        settings=settings,
        senders=senders,
        actor=SYSTEM,
        status=status_name,
        time=notify.local_time(case.committed_at, settings),
        news=news or "",
    )
    return sent is not None


def progress_updates(
    db: Session, *, settings: Settings, senders: Senders, now: datetime
) -> list[str]:
    query = select(Case).where(
        Case.status.not_in([s.value for s in FINISHED]),
        Case.progress_every_hours.is_not(None),
    )
    sent = []
    for case in db.scalars(query.order_by(Case.id)):
        assert case.progress_every_hours is not None
        last = case.last_customer_update_at or case.created_at
        if now - last >= timedelta(hours=case.progress_every_hours) and send_progress(
            db, case, settings=settings, senders=senders, now=now
        ):
            sent.append(case.reference)
    return sent


def third_party_answered(
    db: Session,
    case: Case,
    *,
    summary: str,
    settings: Settings,
    senders: Senders,
    actor: audit.Actor = SYSTEM,
    now: datetime | None = None,
) -> Case:
    """The bank (or another third party) answered: the case is back on our desk and the
    customer hears what came back right away."""
    now = now or utcnow()
    timeline.add_event(
        db,
        case,
        kind="action",
        actor=actor,
        now=now,
        body=summary,
        data={"action": "third_party_answer"},
    )
    if case.status == Status.PENDING_THIRD_PARTY.value:
        service.move(
            db,
            case,
            target=Status.OPEN,
            mover=Mover.SYSTEM,
            actor=actor,
            settings=settings,
            now=now,
        )
    send_progress(db, case, settings=settings, senders=senders, now=now, news=summary)
    return case


def close_resolved(db: Session, *, settings: Settings, now: datetime) -> list[str]:
    cutoff = now - timedelta(days=settings.case_autoclose_days)
    query = select(Case).where(Case.status == Status.RESOLVED.value, Case.resolved_at <= cutoff)
    closed = []
    for case in db.scalars(query.order_by(Case.id)):
        conversation.close(db, case, actor=SYSTEM, settings=settings, mover=Mover.SYSTEM, now=now)
        closed.append(case.reference)
    return closed


def sweep(
    db: Session, *, settings: Settings, senders: Senders, now: datetime | None = None
) -> SweepReport:
    now = now or utcnow()
    return SweepReport(
        escalation=escalation.run_scan(db, settings=settings, now=now),
        reminded=remind_owners(db, settings=settings, now=now),
        progress_sent=progress_updates(db, settings=settings, senders=senders, now=now),
        closed=close_resolved(db, settings=settings, now=now),
    )
