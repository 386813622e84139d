"""SLA policies: targets per category and priority, and the calendars they run on.

The migration seeds ``DEFAULT_TARGETS``; admins change rows through the API. A test checks
that the seeded rows equal these defaults, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from kefu import audit
from kefu.cases import hours, sla
from kefu.cases.categories import Category, Priority
from kefu.cases.errors import SlaPolicyNotFound, UnknownValue
from kefu.cases.models import SlaPolicy
from kefu.config import Settings
from kefu.db import utcnow
from kefu.errors import InvalidInput

CALENDARS = ("24x7", "business")
DAY = 24 * 60

# (first response, resolution) in minutes at normal priority, on the 7x24 clock.
BASE_TARGETS: dict[Category, tuple[int, int]] = {
    Category.ACCOUNT_LOCKED: (15, 120),
    Category.LOGIN_FAILED: (15, 120),
    Category.RECHARGE_NOT_CREDITED: (60, DAY),
    Category.RECHARGE_FAILED: (60, 8 * 60),
    Category.PAYMENT_FAILED: (60, DAY),
    Category.TRANSFER_NOT_ARRIVED: (60, 2 * DAY),
    Category.UNAUTHORIZED_TRANSACTION: (240, 7 * DAY),
    Category.REFUND: (240, 5 * DAY),
    Category.ACCOUNT_STOLEN: (5, DAY),
    Category.SUSPICIOUS_LOGIN: (30, 8 * 60),
    Category.FEATURE_HOWTO: (240, DAY),
    Category.APP_TECHNICAL: (240, 3 * DAY),
    Category.PROMOTIONS: (480, 3 * DAY),
    Category.COMPLAINT: (DAY, 15 * DAY),
    Category.VERIFY_OFFICIAL: (30, 240),
    Category.OTHER: (240, 3 * DAY),
}
PRIORITY_FACTOR: dict[Priority, float] = {
    Priority.URGENT: 0.25,
    Priority.HIGH: 0.5,
    Priority.NORMAL: 1.0,
    Priority.LOW: 2.0,
}
# A complaint's reply deadline is a promise with a regulator behind it: never later than this.
COMPLAINT_MAX_RESOLUTION = 15 * DAY


@dataclass(frozen=True)
class Targets:
    first_response_minutes: int
    resolution_minutes: int
    calendar: str = "24x7"
    pause_on_customer: bool = True
    progress_every_hours: int | None = None


def default_targets(category: Category, priority: Priority) -> Targets:
    first, resolution = BASE_TARGETS[category]
    factor = PRIORITY_FACTOR[priority]
    resolution = max(30, round(resolution * factor))
    if category is Category.COMPLAINT:
        resolution = min(resolution, COMPLAINT_MAX_RESOLUTION)
    return Targets(
        first_response_minutes=max(5, round(first * factor)),
        resolution_minutes=resolution,
        # long cases: the customer hears about progress every day without asking
        progress_every_hours=24 if resolution >= DAY else None,
    )


DEFAULT_TARGETS: dict[tuple[Category, Priority], Targets] = {
    (category, priority): default_targets(category, priority)
    for category in Category
    for priority in Priority
}


def calendar(name: str, settings: Settings, db: Session) -> sla.Calendar:
    """The clock a policy runs on: around the clock, or the business hours and holidays
    admins keep in the console (``cases.hours``, falling back on the settings)."""
    if name == "24x7":
        return sla.around_the_clock(settings.tz)
    if name == "business":
        return hours.business_calendar(db, settings)
    raise UnknownValue(f"unknown SLA calendar {name!r}", field="calendar", value=name)


def parse_category(value: str) -> Category:
    try:
        return Category(value)
    except ValueError:
        raise UnknownValue(f"unknown category {value!r}", field="category", value=value) from None


def parse_priority(value: str) -> Priority:
    try:
        return Priority(value)
    except ValueError:
        raise UnknownValue(f"unknown priority {value!r}", field="priority", value=value) from None


# built once, the values bound at each call: every new case asks
_POLICY = select(SlaPolicy).where(
    SlaPolicy.category == bindparam("category"), SlaPolicy.priority == bindparam("priority")
)


def get_policy(db: Session, *, category: str, priority: str) -> SlaPolicy:
    policy = db.scalar(_POLICY, {"category": category, "priority": priority})
    if policy is None:
        raise SlaPolicyNotFound(
            f"no SLA policy for {category}/{priority}", category=category, priority=priority
        )
    return policy


_TARGETS = select(
    *(
        cast(Table, SlaPolicy.__table__).c[name]
        for name in (
            "first_response_minutes",
            "resolution_minutes",
            "calendar",
            "pause_on_customer",
            "progress_every_hours",
        )
    )
).where(
    cast(Table, SlaPolicy.__table__).c.category == bindparam("category"),
    cast(Table, SlaPolicy.__table__).c.priority == bindparam("priority"),
)


def targets(db: Session, *, category: str, priority: str) -> Targets:
    """The row's targets as they stand in the database, for a new case: its five columns,
    without the ORM object (which cost twice the statement). Read for every case, so an
    admin's change (``update_policy`` flushes it) holds for the next case opened."""
    row = db.connection().execute(_TARGETS, {"category": category, "priority": priority}).first()
    if row is None:
        raise SlaPolicyNotFound(
            f"no SLA policy for {category}/{priority}", category=category, priority=priority
        )
    return Targets(
        first_response_minutes=row.first_response_minutes,
        resolution_minutes=row.resolution_minutes,
        calendar=row.calendar,
        pause_on_customer=row.pause_on_customer,
        progress_every_hours=row.progress_every_hours,
    )


def list_policies(db: Session) -> list[SlaPolicy]:
    return list(db.scalars(select(SlaPolicy).order_by(SlaPolicy.category, SlaPolicy.id)))


_EDITABLE = (
    "first_response_minutes",
    "resolution_minutes",
    "calendar",
    "pause_on_customer",
    "progress_every_hours",
)


def update_policy(
    db: Session,
    *,
    category: str,
    priority: str,
    changes: dict[str, Any],
    actor: audit.Actor,
) -> SlaPolicy:
    """Change one row. Open cases keep the targets they were committed with."""
    policy = get_policy(
        db, category=parse_category(category).value, priority=parse_priority(priority).value
    )
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise InvalidInput(f"not editable: {sorted(unknown)}", field=sorted(unknown)[0])
    if "calendar" in changes and changes["calendar"] not in CALENDARS:
        raise UnknownValue("unknown calendar", field="calendar", value=changes["calendar"])
    first = changes.get("first_response_minutes", policy.first_response_minutes)
    resolution = changes.get("resolution_minutes", policy.resolution_minutes)
    if not 1 <= first <= resolution:
        raise InvalidInput(
            "first response must be at least 1 minute and not later than resolution",
            field="first_response_minutes",
        )
    before = {key: getattr(policy, key) for key in _EDITABLE}
    for key, value in changes.items():
        setattr(policy, key, value)
    policy.updated_at = utcnow()
    policy.updated_by = actor.name
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="sla.update",
        before={"category": category, "priority": priority, **before},
        after={"category": category, "priority": priority, **changes},
    )
    return policy
