"""The case timeline and the SLA clock kept on the case row.

Every change to a case goes through ``add_event`` so the timeline says who did what and when;
text is masked here once, whichever channel it came from.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from kefu import audit
from kefu.cases import policies, sla
from kefu.cases.models import Case, CaseEvent, CasePause
from kefu.config import Settings
from kefu.sensitive import mask

PUBLIC, INTERNAL = "public", "internal"
EVENT_KINDS = (
    "message",
    "note",
    "status",
    "assignment",
    "escalation",
    "action",
    "call",
    "link",
    "attachment",
    "notification",
    "update",
    "sla",
    "merge",
)


def add_event(
    db: Session,
    case: Case,
    *,
    kind: str,
    actor: audit.Actor,
    now: datetime,
    visibility: str = INTERNAL,
    body: str | None = None,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown case event kind {kind!r}")
    event = CaseEvent(
        case_id=case.id,
        kind=kind,
        visibility=visibility,
        actor=actor.name,
        actor_role=actor.role,
        body=mask(body) if body is not None else None,
        data=json.dumps(data, ensure_ascii=False, default=str) if data else None,
        created_at=now,
    )
    db.add(event)  # flushed with the rest of the change: the next query or the commit
    noted: list[CaseEvent] | None = db.info.get(_NOTED)
    if noted is not None:
        noted.append(event)
    case.last_activity_at = now
    case.updated_at = now
    return event


_NOTED = "kefu.cases.timeline.noted"


@contextmanager
def noting(db: Session) -> Iterator[list[CaseEvent]]:
    """The events ``add_event`` adds in ``db`` inside the block. A case opened there has
    these and no others, so its timeline is known without reading it back."""
    noted: list[CaseEvent] = []
    db.info[_NOTED] = noted
    try:
        yield noted
    finally:
        del db.info[_NOTED]


# Built once with the case bound at each call: building a statement (and its cache key)
# cost more than running it on every case read.
_EVENTS = select(CaseEvent).where(CaseEvent.case_id == bindparam("case_id")).order_by(CaseEvent.id)
_PUBLIC_EVENTS = _EVENTS.where(CaseEvent.visibility == PUBLIC)


def events(db: Session, case: Case, *, public_only: bool = False) -> list[CaseEvent]:
    query = _PUBLIC_EVENTS if public_only else _EVENTS
    return list(db.scalars(query, {"case_id": case.id}))


def event_data(event: CaseEvent) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(event.data) if event.data else {}
    return data


# --- the SLA clock --------------------------------------------------------------------


def pauses(db: Session, case: Case) -> list[sla.Pause]:
    rows = db.scalars(select(CasePause).where(CasePause.case_id == case.id))
    return [sla.Pause(row.started_at, row.ended_at) for row in rows]


def refresh_due(db: Session, case: Case, settings: Settings) -> None:
    """Recompute deadlines and warning times from the committed targets, the calendar and
    the pauses.

    The first response is owed whatever the customer does, so pauses stop only the
    resolution clock. A target is "about to be missed" once ``KEFU_CASE_SLA_WARN_PERCENT``
    of it has run.
    """
    calendar = policies.calendar(case.sla_calendar, settings, db)
    share = settings.case_sla_warn_percent / 100
    first = timedelta(minutes=case.first_response_minutes)
    resolution = timedelta(minutes=case.resolution_minutes)
    # a case not stored yet has had no pauses
    stops = pauses(db, case) if case.pause_on_customer and case.id is not None else []
    case.first_response_due_at = sla.due(calendar, case.created_at, first)
    case.first_response_warn_at = sla.due(calendar, case.created_at, first * share)
    case.resolution_due_at = sla.due(calendar, case.created_at, resolution, stops)
    case.resolution_warn_at = sla.due(calendar, case.created_at, resolution * share, stops)


def start_pause(db: Session, case: Case, now: datetime) -> None:
    db.add(CasePause(case_id=case.id, started_at=now))
    db.flush()


def end_pause(db: Session, case: Case, now: datetime) -> None:
    open_pauses = db.scalars(
        select(CasePause).where(CasePause.case_id == case.id, CasePause.ended_at.is_(None))
    )
    for pause in open_pauses:
        pause.ended_at = now
    db.flush()
