"""Weekly opening hours as settings and staff write them: ``"mon-fri 09:00-18:00,
sat 10:00-16:00"``. Pure parsing, kept in the kernel because settings validate them at
start-up (``KEFU_BUSINESS_HOURS``, ``KEFU_VOICE_SERVICE_HOURS``) and the kernel imports no
domain; the cases' SLA clock and the hotline read them through here."""

from __future__ import annotations

import re
from datetime import time

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPEC_PART = re.compile(
    r"^(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+"
    r"(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})$"
)


def parse_hours(spec: str) -> dict[int, tuple[time, time]]:
    """``"mon-fri 09:00-18:00, sat 10:00-16:00"`` → weekday → (open, close)."""
    hours: dict[int, tuple[time, time]] = {}
    for part in (p.strip().lower() for p in spec.split(",")):
        match = _SPEC_PART.match(part)
        if match is None or match["first"] not in _DAYS:
            raise ValueError(
                f"cannot read opening hours {part!r}; expected e.g. 'mon-fri 09:00-18:00'"
            )
        last = match["last"] or match["first"]
        if last not in _DAYS:
            raise ValueError(f"unknown weekday {last!r} in {part!r}")
        start, end = _clock(match["start"]), _clock(match["end"])
        if start >= end:
            raise ValueError(f"opening time must be before closing time in {part!r}")
        first_day, last_day = _DAYS.index(match["first"]), _DAYS.index(last)
        if last_day < first_day:
            raise ValueError(f"weekday range runs backwards in {part!r}")
        for day in range(first_day, last_day + 1):
            hours[day] = (start, end)
    if not hours:
        raise ValueError("opening hours name no day")
    return hours


def _clock(text: str) -> time:
    hour, minute = (int(x) for x in text.split(":"))
    if hour == 24 and minute == 0:
        return time.max
    return time(hour, minute)
