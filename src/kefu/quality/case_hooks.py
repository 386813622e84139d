"""What the cases domain reports to quality, called from its service functions.

Opening a case records an arrival. When the case was opened during a conversation or call,
that channel ties the two by passing ``case_id`` on its next event, and the case's arrival
merges into the conversation's (see ``facts``), so the contact is counted once. The case's
first staff reply, escalations, resolution and reopening are recorded against the case's
latest contact.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Protocol

from sqlalchemy.orm import Session

from kefu import audit
from kefu.identity import service as identity_service
from kefu.quality import events, facts

# case channel -> event channel
CHANNEL_OF_CASE: Final = {
    "web": "web",
    "app": "app",
    "chat": "web",
    "voice": "phone",
    "email": "email",
    "wechat": "wechat",
    "weibo": "weibo",
    "sms": "sms",
    "console": "console",
}


class CaseFacts(Protocol):
    id: int
    reference: str
    customer_id: int
    category: str
    channel: str
    owner_id: int | None
    first_responded_at: datetime | None
    first_response_due_at: datetime | None
    first_response_breached_at: datetime | None
    resolution_due_at: datetime | None
    resolution_breached_at: datetime | None


def _channel(case: CaseFacts) -> str:
    return CHANNEL_OF_CASE.get(case.channel, "console")


def _staff_id(db: Session, actor: audit.Actor) -> int | None:
    if not actor.name.startswith("staff:"):
        return None
    user = identity_service.get_staff_by_username(db, actor.name.removeprefix("staff:"))
    return None if user is None else user.id


def opened(db: Session, case: CaseFacts, *, now: datetime) -> None:
    events.record(
        db,
        "contact_arrived",
        channel=_channel(case),
        at=now,
        case_id=case.id,
        customer_id=case.customer_id,
        category=case.category,
        data={"case_reference": case.reference},
    )


def reading_ahead(db: Session, case_ids: list[int]) -> None:
    """Before the ``opened`` of many new cases in one batch: which have no contact yet,
    asked at once (``facts.read_ahead``)."""
    facts.read_ahead(db, [f"case:{case_id}" for case_id in case_ids])


def first_reply(db: Session, case: CaseFacts, *, actor: audit.Actor, now: datetime) -> None:
    staff_id = _staff_id(db, actor)
    if staff_id is None:
        return
    events.record(
        db,
        "first_reply",
        channel=_channel(case),
        at=now,
        case_id=case.id,
        staff_id=staff_id,
        customer_id=case.customer_id,
        category=case.category,
        data={"case_reference": case.reference},
    )


def escalated(
    db: Session, case: CaseFacts, *, actor: audit.Actor, to_tier: str, now: datetime
) -> None:
    breached = (
        case.first_response_breached_at is not None or case.resolution_breached_at is not None
    )
    reason = "sla_breach" if breached else "sla_at_risk"
    if actor.role != "system":
        reason = "manual"
    events.record(
        db,
        "escalated",
        channel=_channel(case),
        at=now,
        case_id=case.id,
        staff_id=_staff_id(db, actor),
        customer_id=case.customer_id,
        category=case.category,
        data={"reason": reason, "to": to_tier, "case_reference": case.reference},
    )


def resolved(db: Session, case: CaseFacts, *, actor: audit.Actor, now: datetime) -> None:
    """Committed time kept: first response and resolution both by their due times."""
    first_ok = case.first_response_breached_at is None and (
        case.first_response_due_at is None
        or (case.first_responded_at or now) <= case.first_response_due_at
    )
    resolution_ok = case.resolution_breached_at is None and (
        case.resolution_due_at is None or now <= case.resolution_due_at
    )
    events.record(
        db,
        "resolved",
        channel=_channel(case),
        at=now,
        case_id=case.id,
        staff_id=_staff_id(db, actor) or case.owner_id,
        customer_id=case.customer_id,
        category=case.category,
        data={"within_sla": first_ok and resolution_ok, "case_reference": case.reference},
    )


def reopened(db: Session, case: CaseFacts, *, now: datetime) -> None:
    events.record(
        db,
        "reopened",
        channel=_channel(case),
        at=now,
        case_id=case.id,
        customer_id=case.customer_id,
        category=case.category,
        data={"case_reference": case.reference},
    )
