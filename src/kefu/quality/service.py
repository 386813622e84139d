"""Questions managers ask of the figures: a period, filters, a breakdown; read from rollups.

Every answer reads ``quality_rollup`` at the coarsest grain that can answer it (a local day
with all agents together, a half hour, or a day per agent), so its cost follows the number
of days and groups asked for, never the number of contacts or events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from sqlalchemy.orm import Session

from kefu.cases.categories import Category
from kefu.config import Settings
from kefu.errors import InvalidInput
from kefu.identity import service as identity_service
from kefu.identity.permissions import Role
from kefu.quality import events, metrics, rollup, tasks
from kefu.quality.metrics import Totals

MAX_DAYS: Final = 366
BREAKDOWNS: Final = ("total", "day", "hour", "channel", "category", "agent", "team")
DEFAULT_TARGET_SECONDS: Final = 20.0


class BadPeriod(InvalidInput):
    """Dates that are not dates, in the wrong order, or too far apart."""

    code = "bad_period"
    message_key = "quality.error.period"

    def __init__(self, detail: str, *, field: str) -> None:
        super().__init__(detail, field=field, max=MAX_DAYS)


@dataclass(frozen=True)
class Query:
    """A period of local days [start, end] (both included) and optional filters."""

    start: date
    end: date
    channel: str | None = None
    category: str | None = None
    staff_id: int | None = None
    team: str | None = None  # a staff role: agent (tier 1), specialist (tier 2), supervisor
    target_seconds: float = DEFAULT_TARGET_SECONDS

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _date(value: str | date | None, name: str, default: date) -> date:
    if value is None or value == "":
        return default
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise BadPeriod(f"{name} must be a date like 2026-03-01", field=name) from None


def make_query(
    *,
    start: str | date | None,
    end: str | date | None,
    today: date,
    channel: str | None = None,
    category: str | None = None,
    staff_id: int | None = None,
    team: str | None = None,
    target_seconds: float | None = None,
) -> Query:
    """Check what a person typed: dates in order, a range of at most a year, known values.
    Defaults: the last 7 days up to today."""
    end_day = _date(end, "to", today)
    start_day = _date(start, "from", end_day - timedelta(days=6))
    if end_day < start_day:
        raise BadPeriod("the end date is before the start date", field="to")
    if (end_day - start_day).days + 1 > MAX_DAYS:
        raise BadPeriod(f"a range is at most {MAX_DAYS} days", field="to")
    if channel and channel not in events.CHANNELS:
        raise InvalidInput(f"unknown channel {channel!r}", field="channel")
    if category and category not in Category.__members__.values():
        raise InvalidInput(f"unknown category {category!r}", field="category")
    if team and team not in {role.value for role in Role}:
        raise InvalidInput(f"unknown team {team!r}", field="team")
    target = DEFAULT_TARGET_SECONDS if target_seconds is None else float(target_seconds)
    if target not in metrics.TARGETS:
        raise InvalidInput(
            f"the target wait is one of {', '.join(str(t) for t in metrics.TARGETS)} seconds",
            field="target",
        )
    return Query(
        start=start_day,
        end=end_day,
        channel=channel or None,
        category=category or None,
        staff_id=staff_id,
        team=team or None,
        target_seconds=target,
    )


# --- tables -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    key: Any  # the group value: a date, an hour, a channel, a staff id...
    label: str
    totals: Totals
    figures: dict[str, float | None]


@dataclass(frozen=True)
class Table:
    breakdown: str
    rows: list[Row]
    total: Row
    followups: tasks.FollowUpCount
    meta: dict[str, Any] = field(default_factory=dict)


def bounds(query: Query, settings: Settings) -> tuple[datetime, datetime]:
    tz = settings.tz
    start = datetime(query.start.year, query.start.month, query.start.day, tzinfo=tz)
    end_day = query.end + timedelta(days=1)
    end = datetime(end_day.year, end_day.month, end_day.day, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def staff_scope(db: Session, query: Query) -> tuple[int, ...] | None:
    if query.staff_id is None and query.team is None:
        return None
    staff = identity_service.list_staff(db)
    ids = {s.id for s in staff if query.team is None or s.role == query.team}
    if query.staff_id is not None:
        ids &= {query.staff_id}
    return tuple(sorted(ids))


def _grain(query: Query, breakdown: str) -> str:
    per_agent = breakdown in ("agent", "team") or query.staff_id is not None or query.team
    if breakdown == "hour":
        if per_agent:
            raise InvalidInput(
                "the hour breakdown covers all agents; remove the agent or team filter",
                field="by",
            )
        return "slot"
    return "agent" if per_agent else "day"


def _dimension(value: str | None, broken_down: bool, detailed: bool) -> str | None:
    """Which rows of a dimension to read: the value asked for, one row per value for a
    breakdown (or for agent rows read in detail), else the ``*`` row."""
    if value is not None:
        return value
    if broken_down or detailed:
        return rollup.EACH
    return metrics.ALL


def _totals(
    db: Session, scope: rollup.Scope, group: tuple[str, ...], settings: Settings
) -> dict[tuple[Any, ...], Totals]:
    """Agent rows over whole local months come from the monthly rows, the days before the
    first and after the last whole month from the daily ones (a year by agent reads 12
    rows an agent, not 365); a question grouped by day reads days."""
    if scope.grain != "agent" or "period_start" in group:
        return rollup.totals_by(db, scope, group)
    tz = settings.tz
    first = metrics.month_start(scope.start, tz)
    if first < scope.start:
        first = metrics.next_month(first, tz)
    last = metrics.month_start(scope.end, tz)
    if first >= last:
        return rollup.totals_by(db, scope, group)
    parts = (
        replace(scope, end=first),
        replace(scope, grain="month", start=first, end=last),
        replace(scope, start=last),
    )
    found: dict[tuple[Any, ...], list[Totals]] = defaultdict(list)
    for part in parts:
        if part.start < part.end:
            for key, totals in rollup.totals_by(db, part, group).items():
                found[key].append(totals)
    return {key: merge(values) for key, values in found.items()}


def merge(parts: Iterable[Totals]) -> Totals:
    counters: dict[str, float] = defaultdict(float)
    for part in parts:
        for name, value in part.counters.items():
            counters[name] += value
    return Totals(counters=dict(counters))


def _row(key: Any, label: str, totals: Totals, query: Query) -> Row:
    return Row(
        key=key,
        label=label,
        totals=totals,
        figures=metrics.figures(totals, target_seconds=query.target_seconds),
    )


def table(db: Session, query: Query, *, breakdown: str, settings: Settings, now: datetime) -> Table:
    """Every figure, per ``breakdown`` value, plus the total over the whole selection."""
    if breakdown not in BREAKDOWNS:
        raise InvalidInput(f"breakdown is one of {', '.join(BREAKDOWNS)}", field="by")
    grain = _grain(query, breakdown)
    # agent rows hold each channel and category, and all of them together (``*``, ``*``)
    detailed = grain == "agent" and bool(
        query.channel or query.category or breakdown in ("channel", "category")
    )
    start, end = bounds(query, settings)
    staff_ids = staff_scope(db, query)
    scope = rollup.Scope(
        grain=grain,
        start=start,
        end=end,
        channel=_dimension(query.channel, breakdown == "channel", detailed),
        category=_dimension(query.category, breakdown == "category", detailed),
        staff_ids=staff_ids,
    )
    group = {
        "total": (),
        "day": ("period_start",),
        "hour": ("period_start",),
        "channel": ("channel",),
        "category": ("category",),
        "agent": ("staff_id",),
        "team": ("staff_id",),
    }[breakdown]
    grouped = _totals(db, scope, group, settings)
    rows = _arrange(db, breakdown, grouped, query, settings)
    total = _row(None, "total", merge(g for g in grouped.values()), query)
    followups = tasks.on_time(
        db,
        start=start,
        end=end,
        now=now,
        channel=query.channel,
        category=query.category,
        staff_ids=staff_ids,
    )
    return Table(
        breakdown=breakdown,
        rows=rows,
        total=total,
        followups=followups,
        meta={"grain": grain, "start": start, "end": end},
    )


def _arrange(
    db: Session,
    breakdown: str,
    grouped: dict[tuple[Any, ...], Totals],
    query: Query,
    settings: Settings,
) -> list[Row]:
    tz = settings.tz
    if breakdown == "total":
        return []
    if breakdown == "day":
        by_day = {key[0].astimezone(tz).date(): totals for key, totals in grouped.items()}
        days = [query.start + timedelta(days=n) for n in range(query.days)]
        empty = Totals(counters={})
        return [_row(d, d.isoformat(), by_day.get(d, empty), query) for d in days]
    if breakdown == "hour":
        hours: dict[int, list[Totals]] = defaultdict(list)
        for key, totals in grouped.items():
            hours[key[0].astimezone(tz).hour].append(totals)
        return [_row(h, f"{h:02d}:00", merge(hours.get(h, [])), query) for h in range(24)]
    if breakdown in ("agent", "team"):
        staff = {s.id: s for s in identity_service.list_staff(db)}
        if breakdown == "agent":
            rows = [
                _row(
                    key[0],
                    staff[key[0]].display_name if key[0] in staff else f"#{key[0]}",
                    totals,
                    query,
                )
                for key, totals in grouped.items()
            ]
            return sorted(rows, key=lambda r: r.label)
        teams: dict[str, list[Totals]] = defaultdict(list)
        for key, totals in grouped.items():
            member = staff.get(key[0])
            teams[member.role if member else "unknown"].append(totals)
        order = [role.value for role in Role]
        return [
            _row(team, team, merge(parts), query)
            for team, parts in sorted(
                teams.items(), key=lambda item: order.index(item[0]) if item[0] in order else 99
            )
        ]
    rows = [_row(key[0], key[0] or "-", totals, query) for key, totals in grouped.items()]
    return sorted(rows, key=lambda r: r.label)


def summary(db: Session, query: Query, *, settings: Settings, now: datetime) -> Table:
    return table(db, query, breakdown="total", settings=settings, now=now)
