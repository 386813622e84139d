"""Every figure, defined once: what a contact counts toward, and how the counts become
figures. ``docs/metrics.md`` says the same in words; a test keeps the two lists in step.

A contact counts in the period it started (its arrival), under its channel and its latest
category. Contact-level outcomes (resolution, first-contact resolution, CSAT...) belong to
the contact's agent: the last person who answered, replied or resolved. Queue figures (wait,
abandonment, handle time) are counted per stretch with one person (``QualitySegment``), and
belong to the person who answered that stretch.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol
from zoneinfo import ZoneInfo

from kefu.cases.categories import Category

REPEAT_WINDOW: Final = timedelta(days=7)
"""A new contact on the same problem this soon after a contact (or after its resolution)
makes that contact not resolved at first contact, and not contained by the assistant."""

SATISFIED_MIN_SCORE: Final = 4  # CSAT counts scores 4 and 5 of 5 as satisfied

BASE_COUNTERS: Final = (
    "contacts",
    "bot_contacts",
    "contained",
    "handed_over",
    "offered",
    "answered",
    "wait_sum",
    "abandoned",
    "first_replied",
    "frt_sum",
    "handled",
    "handle_sum",
    "resolved",
    "resolve_sum",
    "ever_resolved",
    "first_contacts",
    "fcr",
    "escalated",
    "transferred",
    "reopened",
    "sla_total",
    "sla_met",
    "surveys_sent",
    "surveys_answered",
    "score_sum",
    "satisfied",
    "solved_answered",
    "solved_yes",
    "callbacks_requested",
    "callbacks_done",
)
SUMS: Final = frozenset({"wait_sum", "frt_sum", "handle_sum", "resolve_sum"})  # seconds
GRAINS: Final = ("slot", "day", "agent", "month")
CHANNELS: Final = ("web", "app", "wechat", "weibo", "sms", "email", "phone", "cli", "console")
CATEGORIES: Final = (*(c.value for c in Category), "")  # "": not known yet
ALL: Final = "*"
"""The channel or category of a rollup row that sums every channel or category: each
contact is counted under its own channel and category and under ``*`` for each, so a
question without that filter reads one row per period instead of all of them."""
SLOT: Final = timedelta(minutes=30)


# --- time histograms --------------------------------------------------------------------

BIN_EDGES: Final = (
    0, 5, 10, 15, 20, 25, 30, 40, 50, 60, 75, 90, 120, 150, 180, 240, 300, 420, 600, 900,
    1200, 1800, 2700, 3600, 5400, 7200, 10800, 14400, 21600, 28800, 43200, 86400, 172800,
    259200, 432000, 604800, 1209600, 2592000,
)  # fmt: skip
"""Upper edges, in seconds, of the bins waits and first responses are counted in (one more
bin holds everything longer). A duration counts as within a target T when its bin's upper
edge is at most T, so service-level targets are bin edges."""
TARGETS: Final = tuple(edge for edge in BIN_EDGES if 0 < edge <= 600)
HIST_METRICS: Final = ("wait", "frt")


def hist_name(metric: str, index: int) -> str:
    return f"{metric}_h{index:02d}"


HISTOGRAM: Final = tuple(
    hist_name(metric, index) for metric in HIST_METRICS for index in range(len(BIN_EDGES) + 1)
)
COUNTERS: Final = BASE_COUNTERS + HISTOGRAM


def bin_index(seconds: float) -> int:
    """The bin a duration falls in: the first whose upper edge is at least it."""
    for index, edge in enumerate(BIN_EDGES):
        if seconds <= edge:
            return index
    return len(BIN_EDGES)


def within(counts: Sequence[int], target_seconds: float) -> int:
    """How many durations are at most ``target_seconds`` (a bin edge, see TARGETS)."""
    return sum(
        count for edge, count in zip(BIN_EDGES, counts, strict=False) if edge <= target_seconds
    )


def percentile(counts: Sequence[int], share: float) -> float | None:
    """The nearest-rank percentile, placed within its bin by linear interpolation: exact
    when the durations sit on bin edges; None with no durations."""
    total = sum(counts)
    if total <= 0:
        return None
    rank = math.ceil(share * total)
    before = 0
    for index, count in enumerate(counts):
        if count and before + count >= rank:
            lower = float(BIN_EDGES[index - 1]) if index > 0 else 0.0
            if index >= len(BIN_EDGES):
                return lower  # beyond the last edge: at least this long
            upper = float(BIN_EDGES[index])
            return lower + (upper - lower) * (rank - before) / count
        before += count
    return None


# --- what one contact counts toward -----------------------------------------------------


class ContactFacts(Protocol):
    channel: str
    category: str | None
    staff_id: int | None
    started_at: datetime
    bot_answered_at: datetime | None
    handed_over_at: datetime | None
    first_reply_at: datetime | None
    first_resolved_at: datetime | None
    resolved_at: datetime | None
    escalations: int
    transfers: int
    reopens: int
    within_sla: bool | None
    is_repeat: bool
    followed_by_repeat: bool
    survey_sent: bool
    survey_score: int | None
    survey_solved: bool | None
    callbacks_requested: int
    callbacks_done: int


class SegmentFacts(Protocol):
    staff_id: int | None
    queued_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    abandoned_at: datetime | None
    wrap_seconds: float


RollupKey = tuple[str, datetime, str, str, int]  # grain, period start, channel, category, staff


@dataclass
class Contribution:
    counters: dict[RollupKey, dict[str, float]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(float))
    )

    def add(self, keys: Iterable[RollupKey], values: Mapping[str, float]) -> None:
        changed = [(name, float(value)) for name, value in values.items() if value]
        for key in keys:
            bucket = self.counters[key]
            for name, value in changed:
                bucket[name] += value

    def extend(self, other: Contribution) -> None:
        for key, values in other.counters.items():
            bucket = self.counters[key]
            for name, value in values.items():
                bucket[name] += value

    def add_duration(self, keys: Iterable[RollupKey], metric: str, seconds: float) -> None:
        self.add(keys, {hist_name(metric, bin_index(seconds)): 1})


def slot_start(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % 30, second=0, microsecond=0)


def day_start(moment: datetime, tz: ZoneInfo) -> datetime:
    """The start of the local day, as a UTC time."""
    local = moment.astimezone(tz)
    midnight = datetime(local.year, local.month, local.day, tzinfo=tz)
    return midnight.astimezone(UTC)


def month_start(moment: datetime, tz: ZoneInfo) -> datetime:
    """The start of the local month, as a UTC time."""
    local = moment.astimezone(tz)
    return datetime(local.year, local.month, 1, tzinfo=tz).astimezone(UTC)


def next_month(start: datetime, tz: ZoneInfo) -> datetime:
    """The start of the local month after the one starting at ``start``."""
    return month_start(start.astimezone(tz) + timedelta(days=32), tz)


def _seconds(later: datetime, earlier: datetime) -> float:
    return max((later - earlier).total_seconds(), 0.0)


def contribution(
    contact: ContactFacts, segments: Sequence[SegmentFacts], tz: ZoneInfo
) -> Contribution:
    """What one contact adds to the rollups: the single source of every counter."""
    out = Contribution()
    category = contact.category or ""
    slot = slot_start(contact.started_at)
    day = day_start(contact.started_at, tz)
    month = month_start(contact.started_at, tz)

    cube = ((contact.channel, category), (contact.channel, ALL), (ALL, category), (ALL, ALL))

    def keys(staff_id: int | None) -> list[RollupKey]:
        found: list[RollupKey] = [
            (grain, period, channel, cat, 0)
            for grain, period in (("slot", slot), ("day", day))
            for channel, cat in cube
        ]
        if staff_id:
            for grain, period in (("agent", day), ("month", month)):
                found.append((grain, period, contact.channel, category, staff_id))
                found.append((grain, period, ALL, ALL, staff_id))
        return found

    own = keys(contact.staff_id)
    person_needed_at = contact.handed_over_at or contact.started_at
    resolved = contact.resolved_at is not None
    values: dict[str, float] = {
        "contacts": 1,
        "bot_contacts": contact.bot_answered_at is not None,
        "contained": (
            contact.bot_answered_at is not None
            and contact.handed_over_at is None
            and not any(s.queued_at or s.answered_at for s in segments)
            and not contact.followed_by_repeat
        ),
        "handed_over": contact.handed_over_at is not None,
        "first_replied": contact.first_reply_at is not None,
        "frt_sum": (
            _seconds(contact.first_reply_at, person_needed_at) if contact.first_reply_at else 0
        ),
        "resolved": resolved,
        "resolve_sum": (
            _seconds(contact.resolved_at, contact.started_at) if contact.resolved_at else 0
        ),
        "ever_resolved": contact.first_resolved_at is not None,
        "first_contacts": not contact.is_repeat,
        "fcr": (
            not contact.is_repeat
            and resolved
            and contact.reopens == 0
            and not contact.followed_by_repeat
        ),
        "escalated": contact.escalations > 0,
        "transferred": contact.transfers > 0,
        "reopened": contact.reopens > 0,
        "sla_total": contact.within_sla is not None,
        "sla_met": contact.within_sla is True,
        "surveys_sent": contact.survey_sent,
        "surveys_answered": contact.survey_score is not None,
        "score_sum": contact.survey_score or 0,
        "satisfied": (contact.survey_score or 0) >= SATISFIED_MIN_SCORE,
        "solved_answered": contact.survey_solved is not None,
        "solved_yes": contact.survey_solved is True,
        "callbacks_requested": contact.callbacks_requested,
        "callbacks_done": contact.callbacks_done,
    }
    out.add(own, values)
    if contact.first_reply_at is not None:
        out.add_duration(own, "frt", _seconds(contact.first_reply_at, person_needed_at))
    for segment in segments:
        seg_keys = keys(segment.staff_id)
        seg: dict[str, float] = {"offered": segment.queued_at is not None}
        if segment.queued_at is not None and segment.answered_at is not None:
            wait = _seconds(segment.answered_at, segment.queued_at)
            seg["answered"] = 1
            seg["wait_sum"] = wait
            out.add_duration(seg_keys, "wait", wait)
        if segment.abandoned_at is not None and segment.answered_at is None:
            seg["abandoned"] = 1
        handled = handle_seconds(segment)
        if handled is not None:
            seg["handled"] = 1
            seg["handle_sum"] = handled
        out.add(seg_keys, seg)
    return out


def handle_seconds(segment: SegmentFacts) -> float | None:
    """A stretch's handle time: answered to ended, plus after-call work."""
    if segment.answered_at is None or segment.ended_at is None:
        return None
    return _seconds(segment.ended_at, segment.answered_at) + max(segment.wrap_seconds, 0.0)


def difference(new: Contribution, old: Contribution) -> Contribution:
    """``new`` minus ``old``, dropping what did not change."""
    out = Contribution()
    for key in set(new.counters) | set(old.counters):
        after, before = new.counters.get(key, {}), old.counters.get(key, {})
        for name in set(after) | set(before):
            change = after.get(name, 0.0) - before.get(name, 0.0)
            if change:
                out.counters[key][name] += change
    return out


# --- from counts to figures -------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    """Summed counters for one row of a report (a day, a channel, an agent...)."""

    counters: Mapping[str, float]

    def __getitem__(self, name: str) -> float:
        return float(self.counters.get(name, 0.0))

    def histogram(self, metric: str) -> list[int]:
        return [
            round(self.counters.get(hist_name(metric, i), 0.0)) for i in range(len(BIN_EDGES) + 1)
        ]


def _ratio(top: float, bottom: float) -> float | None:
    return top / bottom if bottom else None


@dataclass(frozen=True)
class Figure:
    name: str
    unit: str  # count | seconds | share | score
    compute: Callable[[Totals, float], float | None]
    # the counter whose contacts a drill-down lists, and the condition they meet
    drill: str


FIGURES: Final[tuple[Figure, ...]] = (
    Figure("contacts", "count", lambda t, _: t["contacts"], "all"),
    Figure("wait_avg", "seconds", lambda t, _: _ratio(t["wait_sum"], t["answered"]), "answered"),
    Figure("wait_p90", "seconds", lambda t, _: percentile(t.histogram("wait"), 0.9), "answered"),
    Figure(
        "service_level",
        "share",
        lambda t, target: _ratio(
            within(t.histogram("wait"), target), t["answered"] + t["abandoned"]
        ),
        "waited_long",
    ),
    Figure(
        "abandon_rate",
        "share",
        lambda t, _: _ratio(t["abandoned"], t["answered"] + t["abandoned"]),
        "abandoned",
    ),
    Figure("frt_avg", "seconds", lambda t, _: _ratio(t["frt_sum"], t["first_replied"]), "replied"),
    Figure("frt_p90", "seconds", lambda t, _: percentile(t.histogram("frt"), 0.9), "replied"),
    Figure("aht", "seconds", lambda t, _: _ratio(t["handle_sum"], t["handled"]), "answered"),
    Figure(
        "resolve_avg", "seconds", lambda t, _: _ratio(t["resolve_sum"], t["resolved"]), "resolved"
    ),
    Figure(
        "resolution_rate", "share", lambda t, _: _ratio(t["resolved"], t["contacts"]), "unresolved"
    ),
    Figure("fcr_rate", "share", lambda t, _: _ratio(t["fcr"], t["first_contacts"]), "not_fcr"),
    Figure(
        "containment",
        "share",
        lambda t, _: _ratio(t["contained"], t["bot_contacts"]),
        "not_contained",
    ),
    Figure(
        "sla_compliance", "share", lambda t, _: _ratio(t["sla_met"], t["sla_total"]), "sla_missed"
    ),
    Figure(
        "escalation_rate", "share", lambda t, _: _ratio(t["escalated"], t["contacts"]), "escalated"
    ),
    Figure(
        "reopen_rate", "share", lambda t, _: _ratio(t["reopened"], t["ever_resolved"]), "reopened"
    ),
    Figure(
        "csat", "share", lambda t, _: _ratio(t["satisfied"], t["surveys_answered"]), "low_score"
    ),
    Figure(
        "csat_avg",
        "score",
        lambda t, _: _ratio(t["score_sum"], t["surveys_answered"]),
        "low_score",
    ),
    Figure(
        "solved_rate",
        "share",
        lambda t, _: _ratio(t["solved_yes"], t["solved_answered"]),
        "not_solved",
    ),
    Figure(
        "survey_response_rate",
        "share",
        lambda t, _: _ratio(t["surveys_answered"], t["surveys_sent"]),
        "survey_unanswered",
    ),
)
FIGURE_NAMES: Final = tuple(figure.name for figure in FIGURES)
FOLLOWUP_FIGURE: Final = "followups_on_time"
"""Follow-up tasks done by their due time ÷ tasks due; counted from the task list itself
(few rows), by due date, in ``service.followup_figure``."""


def figures(totals: Totals, *, target_seconds: float) -> dict[str, float | None]:
    return {figure.name: figure.compute(totals, target_seconds) for figure in FIGURES}
