"""Business hours and holidays as admins keep them in the console, and the calendar the
SLA clock runs on. The console's values win over ``KEFU_BUSINESS_HOURS``; holidays are the
console's plus ``KEFU_BUSINESS_HOLIDAYS``. Open cases keep the deadlines they were given
until something recomputes them. Functions flush and never commit; changes are audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu import audit
from kefu.cases import sla
from kefu.cases.models import BusinessHoliday, BusinessHours
from kefu.config import Settings
from kefu.db import utcnow
from kefu.errors import Conflict, InvalidInput, NotFound

HOLIDAY_NAME_MAX = 60
MAX_DAYS_AT_ONCE = 120
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*(?:\.\.|~|至|到)\s*(\d{4}-\d{2}-\d{2})$")


class StaleHours(Conflict):
    code = "stale_edit"
    message_key = "sla.admin.error.stale"


@dataclass(frozen=True)
class Hours:
    spec: str
    version: int  # 0: still the setting's
    updated_by: str | None


def current(db: Session, settings: Settings) -> Hours:
    row = db.get(BusinessHours, 1)
    if row is None:
        return Hours(settings.business_hours, 0, None)
    return Hours(row.spec, row.version, row.updated_by)


def set_hours(
    db: Session, *, spec: str, expected_version: int, settings: Settings, actor: audit.Actor
) -> Hours:
    """New opening hours; a spec that does not parse is refused with the reason."""
    spec = " ".join(spec.split())
    try:
        sla.parse_hours(spec)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="hours", spec=spec) from None
    before = current(db, settings)
    if expected_version != before.version:
        raise StaleHours("changed meanwhile", field="version", who=before.updated_by or "—")
    row = db.get(BusinessHours, 1)
    now = utcnow()
    if row is None:
        row = BusinessHours(id=1, spec=spec, version=1, updated_at=now, updated_by=actor.name)
        db.add(row)
    else:
        row.spec, row.version = spec, row.version + 1
        row.updated_at, row.updated_by = now, actor.name
    db.flush()
    audit.record(
        db, actor=actor, action="sla.hours", before={"hours": before.spec}, after={"hours": spec}
    )
    return Hours(row.spec, row.version, row.updated_by)


def holidays(db: Session) -> list[BusinessHoliday]:
    return list(db.scalars(select(BusinessHoliday).order_by(BusinessHoliday.day)))


def parse_days(text: str) -> list[date]:
    """Dates one per line or separated by commas; ``2027-02-10..2027-02-16`` (or ``~``,
    ``至``) for a run of days."""
    days: list[date] = []
    for part in re.split(r"[,，;；\n]+", text):
        part = part.strip()
        if not part:
            continue
        try:
            found = _RANGE.match(part)
            if found:
                first, last = date.fromisoformat(found[1]), date.fromisoformat(found[2])
                if last < first:
                    raise InvalidInput("range backwards", field="days", part=part)
                days += [first + timedelta(days=n) for n in range((last - first).days + 1)]
            else:
                days.append(date.fromisoformat(part))
        except ValueError:
            raise InvalidInput("not a date", field="days", part=part) from None
        if len(days) > MAX_DAYS_AT_ONCE:
            raise InvalidInput("too many days", field="days", part=part, max=MAX_DAYS_AT_ONCE)
    if not days:
        raise InvalidInput("no date", field="days", part="")
    return days


def add_holidays(
    db: Session, *, text: str, name: str, settings: Settings, actor: audit.Actor
) -> list[date]:
    """Add a list of dates at once, all or none: a date already in the calendar (or given
    twice) is refused, naming it."""
    days = parse_days(text)
    name = " ".join(name.split())
    if not name or len(name) > HOLIDAY_NAME_MAX:
        raise InvalidInput("name required", field="name", max=HOLIDAY_NAME_MAX)
    seen: set[date] = set()
    taken = {h.day: h.name for h in holidays(db)}
    for part in settings.business_holidays.split(","):
        if part.strip():
            taken.setdefault(date.fromisoformat(part.strip()), "KEFU_BUSINESS_HOLIDAYS")
    for day in days:
        if day in taken or day in seen:
            raise Conflict(
                "holiday overlaps", field="days", day=day.isoformat(), name=taken.get(day, name)
            )
        seen.add(day)
    now = utcnow()
    for day in sorted(seen):
        db.add(BusinessHoliday(day=day, name=name, created_at=now, created_by=actor.name))
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="sla.holidays.add",
        after={"name": name, "days": [d.isoformat() for d in sorted(seen)]},
    )
    return sorted(seen)


def remove_holiday(db: Session, *, holiday_id: int, actor: audit.Actor) -> None:
    row = db.get(BusinessHoliday, holiday_id)
    if row is None:
        raise NotFound("no such holiday")
    before = {"name": row.name, "day": row.day.isoformat()}
    db.delete(row)
    db.flush()
    audit.record(db, actor=actor, action="sla.holidays.remove", before=before)


def business_calendar(db: Session, settings: Settings) -> sla.Calendar:
    days = {h.day for h in holidays(db)}
    days |= {
        date.fromisoformat(p.strip()) for p in settings.business_holidays.split(",") if p.strip()
    }
    return sla.Calendar(
        tz=settings.tz,
        hours=sla.parse_hours(current(db, settings).spec),
        holidays=frozenset(days),
    )


@dataclass(frozen=True)
class Preview:
    opened_at: datetime
    first_response_due: datetime | None
    resolution_due: datetime | None
    calendar: str


def preview(
    db: Session, *, calendar_name: str, first: int, resolution: int, settings: Settings
) -> Preview:
    """When a case opened now would be due, on the current targets and calendar."""
    now = utcnow()
    calendar = (
        business_calendar(db, settings)
        if calendar_name == "business"
        else sla.around_the_clock(settings.tz)
    )
    return Preview(
        opened_at=now,
        first_response_due=sla.due(calendar, now, timedelta(minutes=first)),
        resolution_due=sla.due(calendar, now, timedelta(minutes=resolution)),
        calendar=calendar_name,
    )
