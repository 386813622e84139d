"""The pure parts of the figure definitions: time bins, percentiles, one contact's counts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kefu.quality import metrics

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 1, 10, tzinfo=UTC)


def test_durations_fall_in_the_first_bin_at_least_as_long() -> None:
    assert metrics.BIN_EDGES[metrics.bin_index(0)] == 0
    assert metrics.BIN_EDGES[metrics.bin_index(0.2)] == 5
    assert metrics.BIN_EDGES[metrics.bin_index(20)] == 20
    assert metrics.BIN_EDGES[metrics.bin_index(20.01)] == 25
    assert metrics.BIN_EDGES[metrics.bin_index(3599)] == 3600
    assert metrics.bin_index(40 * 86400) == len(metrics.BIN_EDGES)  # longer than 30 days


def _counts(*seconds: float) -> list[int]:
    counts = [0] * (len(metrics.BIN_EDGES) + 1)
    for value in seconds:
        counts[metrics.bin_index(value)] += 1
    return counts


def test_within_and_percentile() -> None:
    counts = _counts(10, 15, 20, 40)
    assert metrics.within(counts, 20) == 3
    assert metrics.within(counts, 15) == 2
    assert metrics.percentile(counts, 0.9) == 40
    assert metrics.percentile(counts, 0.5) == 15
    # within a bin the percentile is placed by linear interpolation: ranks 1..4 of four
    # durations in (30, 40] give 32.5, 35, 37.5, 40
    assert metrics.percentile(_counts(31, 33, 36, 39), 0.5) == 35
    assert metrics.percentile(_counts(40 * 86400), 0.9) == metrics.BIN_EDGES[-1]
    assert metrics.percentile(_counts(), 0.9) is None


@dataclass
class Contact:
    channel: str = "phone"
    category: str | None = "refund"
    staff_id: int | None = 7
    started_at: datetime = T0
    bot_answered_at: datetime | None = None
    handed_over_at: datetime | None = None
    first_reply_at: datetime | None = None
    first_resolved_at: datetime | None = None
    resolved_at: datetime | None = None
    escalations: int = 0
    transfers: int = 0
    reopens: int = 0
    within_sla: bool | None = None
    is_repeat: bool = False
    followed_by_repeat: bool = False
    survey_sent: bool = False
    survey_score: int | None = None
    survey_solved: bool | None = None
    callbacks_requested: int = 0
    callbacks_done: int = 0


@dataclass
class Segment:
    staff_id: int | None = 7
    queued_at: datetime | None = T0
    answered_at: datetime | None = T0 + timedelta(seconds=25)
    ended_at: datetime | None = T0 + timedelta(seconds=125)
    abandoned_at: datetime | None = None
    wrap_seconds: float = 15.0
    extra: dict[str, str] = field(default_factory=dict)


def test_one_contact_counts_in_its_slot_day_agent_and_month_rows() -> None:
    contact = Contact(
        resolved_at=T0 + timedelta(minutes=5), first_resolved_at=T0 + timedelta(minutes=5)
    )
    out = metrics.contribution(contact, [Segment()], SHANGHAI)
    slot_start = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    day_start = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)  # midnight in Shanghai
    cube = {("phone", "refund"), ("phone", "*"), ("*", "refund"), ("*", "*")}
    expected = {("slot", slot_start, c, k, 0) for c, k in cube}
    expected |= {("day", day_start, c, k, 0) for c, k in cube}
    month_start = datetime(2026, 2, 28, 16, 0, tzinfo=UTC)  # 1 March in Shanghai
    for grain, start in (("agent", day_start), ("month", month_start)):
        expected |= {(grain, start, "phone", "refund", 7), (grain, start, "*", "*", 7)}
    assert set(out.counters) == expected
    wait_bin = metrics.hist_name("wait", metrics.bin_index(25))
    for key in expected:
        values = out.counters[key]
        assert values["contacts"] == 1 and values["answered"] == 1
        assert values["wait_sum"] == 25 and values["handle_sum"] == 115
        assert values["fcr"] == 1 and values["resolve_sum"] == 300
        assert values[wait_bin] == 1


def test_difference_moves_a_contact_between_categories() -> None:
    before = metrics.contribution(Contact(category=None), [], SHANGHAI)
    after = metrics.contribution(Contact(category="refund"), [], SHANGHAI)
    change = metrics.difference(after, before)
    moved = {
        key[3]: values["contacts"] for key, values in change.counters.items() if key[0] == "day"
    }
    assert moved == {"": -1, "refund": 1}


def test_every_figure_is_documented() -> None:
    doc = (Path(__file__).parents[3] / "docs" / "metrics.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^### `([a-z_0-9]+)`", doc, flags=re.MULTILINE))
    assert documented == {*metrics.FIGURE_NAMES, metrics.FOLLOWUP_FIGURE}


def test_ratio_figures_are_empty_without_a_denominator() -> None:
    empty = metrics.figures(metrics.Totals(counters={}), target_seconds=20)
    assert empty["contacts"] == 0
    assert all(value is None for name, value in empty.items() if name != "contacts")


@pytest.mark.parametrize("name", metrics.FIGURE_NAMES)
def test_figure_names_are_unique_and_known(name: str) -> None:
    assert metrics.FIGURE_NAMES.count(name) == 1
