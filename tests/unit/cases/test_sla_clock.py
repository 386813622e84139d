"""SLA arithmetic: 7x24 and business-hours calendars, time zones, holidays and pauses."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kefu.cases import sla
from kefu.cases.sla import Calendar, Pause

SH = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)
OFFICE = Calendar(tz=SH, hours=sla.parse_hours("mon-fri 09:00-18:00"))


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


def test_around_the_clock_is_plain_addition() -> None:
    calendar = sla.around_the_clock(SH)
    start = sh(2026, 11, 27, 23, 30)  # a Friday night
    assert sla.add(calendar, start, 2 * H) == sh(2026, 11, 28, 1, 30)
    assert sla.between(calendar, start, sh(2026, 11, 28, 1, 30)) == 2 * H


def test_results_are_utc() -> None:
    due = sla.add(OFFICE, sh(2026, 11, 23, 10), H)
    assert due.tzinfo is UTC
    assert due == datetime(2026, 11, 23, 3, tzinfo=UTC)


def test_business_hours_roll_over_the_evening_and_weekend() -> None:
    friday_late = sh(2026, 11, 27, 17, 0)
    # one hour left on Friday, three more from Monday 09:00
    assert sla.add(OFFICE, friday_late, 4 * H) == sh(2026, 11, 30, 12, 0)
    assert sla.between(OFFICE, friday_late, sh(2026, 11, 30, 12, 0)) == 4 * H


def test_start_outside_hours_starts_at_next_opening() -> None:
    saturday = sh(2026, 11, 28, 15, 0)
    assert sla.add(OFFICE, saturday, 30 * timedelta(minutes=1)) == sh(2026, 11, 30, 9, 30)
    early = sh(2026, 11, 24, 6, 0)
    assert sla.add(OFFICE, early, 9 * H) == sh(2026, 11, 24, 18, 0)


def test_a_nine_hour_target_is_one_business_day() -> None:
    start = sh(2026, 11, 23, 14, 0)  # Monday
    assert sla.add(OFFICE, start, 9 * H) == sh(2026, 11, 24, 14, 0)


def test_start_given_in_another_zone() -> None:
    # 01:00 UTC is 09:00 in Shanghai on the same Monday
    start = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    assert sla.add(OFFICE, start, H) == sh(2026, 11, 23, 10, 0)
    new_york = datetime(2026, 11, 22, 20, 0, tzinfo=ZoneInfo("America/New_York"))
    assert sla.add(OFFICE, new_york, H) == sh(2026, 11, 23, 10, 0)


def test_holidays_are_skipped() -> None:
    calendar = Calendar(tz=SH, hours=OFFICE.hours, holidays=frozenset({date(2026, 11, 24)}))
    assert sla.add(calendar, sh(2026, 11, 23, 17, 0), 2 * H) == sh(2026, 11, 25, 10, 0)


def test_parse_hours_with_several_parts() -> None:
    hours = sla.parse_hours("mon-fri 09:00-18:00, sat 10:00-16:00")
    assert sorted(hours) == [0, 1, 2, 3, 4, 5]
    assert hours[5][0].hour == 10


@pytest.mark.parametrize(
    "spec", ["", "mon-fri", "fri-mon 09:00-18:00", "mon 18:00-09:00", "xyz 09:00-10:00"]
)
def test_parse_hours_rejects_nonsense(spec: str) -> None:
    with pytest.raises(ValueError):
        sla.parse_hours(spec)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        sla.add(OFFICE, datetime(2026, 11, 23, 10), H)


def test_pause_pushes_the_deadline_by_its_length() -> None:
    calendar = sla.around_the_clock(SH)
    start = sh(2026, 11, 23, 10, 0)
    pauses = [Pause(sh(2026, 11, 23, 11, 0), sh(2026, 11, 23, 14, 0))]
    assert sla.due(calendar, start, 4 * H, pauses) == sh(2026, 11, 23, 17, 0)
    assert sla.used(calendar, start, sh(2026, 11, 23, 15, 0), pauses) == 2 * H


def test_open_pause_has_no_deadline_yet() -> None:
    calendar = sla.around_the_clock(SH)
    start = sh(2026, 11, 23, 10, 0)
    assert sla.due(calendar, start, 4 * H, [Pause(sh(2026, 11, 23, 11, 0), None)]) is None
    assert (
        sla.used(calendar, start, sh(2026, 11, 23, 20, 0), [Pause(sh(2026, 11, 23, 11, 0), None)])
        == H
    )


def test_pause_after_the_deadline_changes_nothing() -> None:
    calendar = sla.around_the_clock(SH)
    start = sh(2026, 11, 23, 10, 0)
    late = [Pause(sh(2026, 11, 23, 16, 0), None)]
    assert sla.due(calendar, start, 4 * H, late) == sh(2026, 11, 23, 14, 0)


def test_overlapping_pauses_count_once() -> None:
    calendar = sla.around_the_clock(SH)
    start = sh(2026, 11, 23, 10, 0)
    pauses = [
        Pause(sh(2026, 11, 23, 11, 0), sh(2026, 11, 23, 13, 0)),
        Pause(sh(2026, 11, 23, 12, 0), sh(2026, 11, 23, 14, 0)),
    ]
    assert sla.due(calendar, start, 4 * H, pauses) == sh(2026, 11, 23, 17, 0)


def test_pause_outside_business_hours_costs_nothing() -> None:
    start = sh(2026, 11, 27, 17, 0)  # Friday
    weekend_pause = [Pause(sh(2026, 11, 28, 10, 0), sh(2026, 11, 29, 10, 0))]
    assert sla.due(OFFICE, start, 2 * H, weekend_pause) == sh(2026, 11, 30, 10, 0)
    friday_pause = [Pause(sh(2026, 11, 27, 17, 30), sh(2026, 11, 30, 9, 30))]
    # 30 minutes ran on Friday; the pause swallowed Monday 09:00-09:30
    assert sla.due(OFFICE, start, 2 * H, friday_pause) == sh(2026, 11, 30, 11, 0)
