"""SLA clock arithmetic: deadlines in calendar (7x24) or business hours, with pauses.

Pure functions on aware datetimes; no database. A calendar says when the clock runs: always,
or in weekly opening hours in a time zone, minus holidays. Pauses (the case is waiting on the
customer) stop the clock whatever the calendar says. All datetimes given must be aware; the
results are in UTC.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kefu.opening_hours import parse_hours

__all__ = ["Calendar", "around_the_clock", "parse_hours"]


@dataclass(frozen=True)
class Calendar:
    """When the SLA clock runs. ``hours`` maps weekday (0 = Monday) to one opening window in
    local time; ``None`` means around the clock (7x24), which ignores holidays too."""

    tz: ZoneInfo
    hours: dict[int, tuple[time, time]] | None = None
    holidays: frozenset[date] = field(default_factory=frozenset)

    @property
    def always_open(self) -> bool:
        return self.hours is None


def around_the_clock(tz: ZoneInfo) -> Calendar:
    return Calendar(tz=tz)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("SLA arithmetic needs aware datetimes")
    return value


def _windows(calendar: Calendar, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Opening windows (UTC) that end after ``start``, in order, without end."""
    assert calendar.hours is not None
    day = start.astimezone(calendar.tz).date() - timedelta(days=1)
    empty_days = 0
    while True:
        hours = calendar.hours.get(day.weekday())
        if hours is None or day in calendar.holidays:
            empty_days += 1
            if empty_days > 366:
                raise ValueError("business calendar has no opening hours within a year")
        else:
            empty_days = 0
            opens = datetime.combine(day, hours[0], calendar.tz).astimezone(UTC)
            closes = datetime.combine(day, hours[1], calendar.tz).astimezone(UTC)
            if closes > start:
                yield max(opens, start), closes
        day += timedelta(days=1)


def add(calendar: Calendar, start: datetime, duration: timedelta) -> datetime:
    """The moment when ``duration`` of clock time has run from ``start``."""
    start = _aware(start).astimezone(UTC)
    if duration < timedelta(0):
        raise ValueError("duration must not be negative")
    if calendar.always_open:
        return start + duration
    remaining = duration
    for opens, closes in _windows(calendar, start):
        if remaining <= closes - opens:
            return opens + remaining
        remaining -= closes - opens
    raise AssertionError("unreachable: _windows never ends")


def between(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    """Clock time that runs from ``start`` to ``end`` (zero if ``end`` is not later)."""
    start, end = _aware(start).astimezone(UTC), _aware(end).astimezone(UTC)
    if end <= start:
        return timedelta(0)
    if calendar.always_open:
        return end - start
    total = timedelta(0)
    for opens, closes in _windows(calendar, start):
        if opens >= end:
            break
        total += min(closes, end) - opens
    return total


@dataclass(frozen=True)
class Pause:
    started_at: datetime
    ended_at: datetime | None  # None: still paused


def _merged(pauses: Sequence[Pause]) -> list[Pause]:
    merged: list[Pause] = []
    for pause in sorted(pauses, key=lambda p: p.started_at):
        if merged and (merged[-1].ended_at is None or pause.started_at <= merged[-1].ended_at):
            last = merged[-1]
            ended = (
                None
                if last.ended_at is None or pause.ended_at is None
                else max(last.ended_at, pause.ended_at)
            )
            merged[-1] = Pause(last.started_at, ended)
        else:
            merged.append(pause)
    return merged


def due(
    calendar: Calendar, start: datetime, target: timedelta, pauses: Sequence[Pause] = ()
) -> datetime | None:
    """When ``target`` of running clock from ``start`` is used up, skipping the pauses.

    ``None`` while a pause that began before the deadline is still open: the deadline is
    not known until the clock runs again.
    """
    cursor = _aware(start).astimezone(UTC)
    remaining = target
    for pause in _merged(pauses):
        if pause.ended_at is not None and pause.ended_at <= cursor:
            continue
        if pause.started_at > cursor:
            window = between(calendar, cursor, pause.started_at)
            if window >= remaining:
                return add(calendar, cursor, remaining)
            remaining -= window
        if pause.ended_at is None:
            return None
        cursor = max(cursor, pause.ended_at.astimezone(UTC))
    return add(calendar, cursor, remaining)


def used(
    calendar: Calendar, start: datetime, now: datetime, pauses: Sequence[Pause] = ()
) -> timedelta:
    """Running clock time from ``start`` to ``now``, pauses excluded."""
    total = between(calendar, start, now)
    for pause in _merged(pauses):
        paused_from = max(pause.started_at, start)
        paused_to = min(pause.ended_at or now, now)
        total -= between(calendar, paused_from, paused_to)
    return max(total, timedelta(0))
