"""Escalation: by an agent with a reason, and by the scheduler when a target is about to be
missed or has been missed.

Each automatic step moves the case one tier up (tier 1 → tier 2 → supervisor), tells the
owner and the supervisors, and is recorded on the timeline and in the audit trail. The
warned/breached timestamps on the case make a scan idempotent: running it twice at the same
``now`` does nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from kefu import audit
from kefu.cases import notify, timeline
from kefu.cases.categories import TIER_ORDER, Tier
from kefu.cases.errors import CaseFinished, EscalationNotPossible, UnknownValue
from kefu.cases.models import Case
from kefu.cases.transitions import FINISHED, Status
from kefu.config import Settings
from kefu.db import utcnow
from kefu.errors import InvalidInput
from kefu.i18n import listed, normalise_lang, translate
from kefu.identity import service as identity_service
from kefu.quality import case_hooks as quality_hooks

SYSTEM = audit.Actor.system()


def _tier(value: str) -> Tier:
    try:
        return Tier(value)
    except ValueError:
        raise UnknownValue(f"unknown tier {value!r}", field="tier", value=value) from None


def _tell_owner_and_supervisors(
    db: Session,
    case: Case,
    *,
    kind: str,
    key: str,
    now: datetime,
    actor: audit.Actor,
    done: str | None = None,
    **params: Any,
) -> int:
    """One console notification each, in the recipient's language; ``done`` names the
    catalogue text of what the system did about it (with the case's tier)."""
    staff = {user.id: user for user in identity_service.list_staff(db) if user.is_active}
    recipients: list[tuple[str, int]] = []
    if case.owner_id is not None and case.owner_id in staff:
        recipients.append(("owner", case.owner_id))
    recipients += [
        ("supervisor", user.id)
        for user in staff.values()
        if user.role == "supervisor" and user.id != case.owner_id
    ]
    for recipient, staff_id in recipients:
        lang = normalise_lang(staff[staff_id].language) or "zh-CN"
        if done is not None:
            params["what"] = translate(done, lang, tier=translate(f"case.tier.{case.tier}", lang))
        notify.notify_staff(
            db,
            case,
            kind=kind,
            recipient=recipient,
            staff_user_id=staff_id,
            body=translate(key, lang, reference=case.reference, **params),
            now=now,
            actor=actor,
        )
    return len(recipients)


def escalate(
    db: Session,
    case: Case,
    *,
    to_tier: str,
    reason: str,
    actor: audit.Actor,
    owner_username: str | None = None,
    now: datetime | None = None,
) -> Case:
    """Hand the case to a higher tier (or a named person there) with a reason."""
    now = now or utcnow()
    target = _tier(to_tier)
    reason = reason.strip()
    if not reason:
        raise InvalidInput("an escalation needs a reason", field="reason")
    if Status(case.status) in FINISHED:
        raise CaseFinished(f"case {case.reference} is {case.status}", reference=case.reference)
    if TIER_ORDER.index(target) <= TIER_ORDER.index(Tier(case.tier)):
        raise EscalationNotPossible(
            f"case is at {case.tier}; escalate to a higher tier",
            current=case.tier,
            target=target.value,
        )
    new_owner_id = None
    if owner_username is not None:
        owner = identity_service.get_staff_by_username(db, owner_username)
        if owner is None or not owner.is_active:
            raise InvalidInput("no active staff member by that name", field="owner")
        new_owner_id = owner.id
    _raise_tier(db, case, target=target, reason=reason, actor=actor, now=now, owner_id=new_owner_id)
    _tell_owner_and_supervisors(
        db, case, kind="escalated", key="case.escalated_note", now=now, actor=actor, reason=reason
    )
    return case


def _raise_tier(
    db: Session,
    case: Case,
    *,
    target: Tier,
    reason: str,
    actor: audit.Actor,
    now: datetime,
    owner_id: int | None,
) -> None:
    before = {"tier": case.tier, "owner_id": case.owner_id}
    case.tier = target.value
    case.owner_id = owner_id  # None: the case waits in the new tier's queue
    case.escalation_count += 1
    timeline.add_event(
        db,
        case,
        kind="escalation",
        actor=actor,
        now=now,
        body=reason,
        data={"from": before["tier"], "to": target.value, "owner_id": owner_id},
    )
    quality_hooks.escalated(db, case, actor=actor, to_tier=target.value, now=now)
    audit.record(
        db,
        actor=actor,
        action="case.escalate",
        customer_id=case.customer_id,
        case_reference=case.reference,
        before=before,
        after={"tier": target.value, "owner_id": owner_id, "reason": reason},
    )


@dataclass
class ScanReport:
    warned: list[str] = field(default_factory=list)
    breached: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    notifications: int = 0


def _due_cases(db: Session, now: datetime) -> list[Case]:
    unfinished = Case.status.not_in([s.value for s in FINISHED])
    first_response_due = and_(
        Case.first_responded_at.is_(None),
        Case.first_response_breached_at.is_(None),
        Case.first_response_warn_at <= now,
    )
    resolution_due = and_(Case.resolution_breached_at.is_(None), Case.resolution_warn_at <= now)
    query = (
        select(Case).where(unfinished, or_(first_response_due, resolution_due)).order_by(Case.id)
    )
    if db.get_bind().dialect.name == "postgresql":
        # two schedulers never work the same case; each takes what the other has not locked
        query = query.with_for_update(skip_locked=True)
    return list(db.scalars(query))


def _step(case: Case, target_name: str, breached: bool) -> str:
    return f"{target_name}_{'breached' if breached else 'at_risk'}"


def run_scan(db: Session, *, settings: Settings, now: datetime | None = None) -> ScanReport:
    """Warn about, and escalate, every case whose first response or resolution is about
    to be missed or has been missed by ``now``. Timeline texts are in the default language;
    each notification is in its recipient's."""
    now = now or utcnow()
    lang = settings.default_language
    report = ScanReport()
    for case in _due_cases(db, now):
        steps: list[str] = []
        if case.first_responded_at is None and case.first_response_breached_at is None:
            if case.first_response_due_at is not None and case.first_response_due_at <= now:
                case.first_response_breached_at = now
                case.first_response_warned_at = case.first_response_warned_at or now
                steps.append(_step(case, "first_response", breached=True))
            elif case.first_response_warned_at is None and case.first_response_warn_at is not None:
                case.first_response_warned_at = now
                steps.append(_step(case, "first_response", breached=False))
        if case.resolution_breached_at is None and case.resolution_warn_at is not None:
            if case.resolution_due_at is not None and case.resolution_due_at <= now:
                case.resolution_breached_at = now
                case.resolution_warned_at = case.resolution_warned_at or now
                steps.append(_step(case, "resolution", breached=True))
            elif case.resolution_warned_at is None and case.resolution_warn_at <= now:
                case.resolution_warned_at = now
                steps.append(_step(case, "resolution", breached=False))
        if not steps:
            continue
        if any(step.endswith("breached") for step in steps):
            report.breached.append(case.reference)
        else:
            report.warned.append(case.reference)
        steps_text = listed((translate(f"case.sla_step.{s}", lang) for s in steps), lang)
        reason = translate("case.auto_escalation_reason", lang, steps=steps_text)
        current = TIER_ORDER.index(Tier(case.tier))
        at_top = current + 1 >= len(TIER_ORDER)
        if not at_top:
            _raise_tier(
                db,
                case,
                target=TIER_ORDER[current + 1],
                reason=reason,
                actor=SYSTEM,
                now=now,
                owner_id=case.owner_id,  # the owner keeps it, with the higher tier's eyes on it
            )
            report.escalated.append(case.reference)
        else:
            # nothing above to escalate to: the timeline says so rather than "escalated"
            timeline.add_event(
                db,
                case,
                kind="sla",
                actor=SYSTEM,
                now=now,
                body=translate("case.sla_top_reason", lang, steps=steps_text),
                data={"steps": steps},
            )
            audit.record(
                db,
                actor=SYSTEM,
                action="case.sla_breach",
                customer_id=case.customer_id,
                case_reference=case.reference,
                after={"steps": steps},
            )
        report.notifications += _tell_owner_and_supervisors(
            db,
            case,
            kind=steps[-1],
            key=f"case.sla_alert.{steps[-1]}",
            now=now,
            actor=SYSTEM,
            done="case.sla_done.top" if at_top else "case.sla_done.escalated",
        )
    db.flush()
    return report
