"""Staffing with Erlang C: how many people keep the wait under a target.

With calls arriving at random (Poisson) at ``rate`` per second and taking ``aht`` seconds
on average, the offered traffic is A = rate × aht Erlangs. With N agents (N > A):

- Erlang C, the chance a contact waits at all:  C(N, A) = N·B / (N − A·(1 − B)),
  where B = B(N, A) is Erlang B, computed by the recurrence B(0) = 1,
  B(n) = A·B(n−1) / (n + A·B(n−1)). Every term stays in [0, 1], so the recurrence never
  overflows, unlike the textbook form with A^N / N! (already infinite in floating point for
  A = 200, N = 200).
- Service level, the share answered within t seconds:  SL = 1 − C·e^(−(N − A)·t / aht)
- Average speed of answer:  ASA = C·aht / (N − A)
- Occupancy: A / N.

Then the plan divides by (1 − shrinkage) for breaks, training and absence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from kefu.errors import InvalidInput
from kefu.quality import metrics, rollup

MAX_AGENTS: Final = 5000
INTERVAL_SECONDS: Final = 1800  # plans are by half hour
DEFAULT_AHT: Final = 300.0  # seconds, when history holds no handled contact


def erlang_b(agents: int, traffic: float) -> float:
    if agents < 0 or traffic < 0:
        raise ValueError("agents and traffic must not be negative")
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = traffic * blocking / (n + traffic * blocking)
    return blocking


def erlang_c(agents: int, traffic: float) -> float:
    """The probability that a contact has to wait; 1.0 when the agents cannot keep up."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    blocking = erlang_b(agents, traffic)
    return agents * blocking / (agents - traffic * (1.0 - blocking))


def service_level(agents: int, traffic: float, aht: float, target_seconds: float) -> float:
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    waiting = erlang_c(agents, traffic)
    return 1.0 - waiting * math.exp(-(agents - traffic) * target_seconds / aht)


def average_wait(agents: int, traffic: float, aht: float) -> float:
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return math.inf
    return erlang_c(agents, traffic) * aht / (agents - traffic)


@dataclass(frozen=True)
class Inputs:
    """One staffing question: ``contacts`` arriving in ``interval_seconds``."""

    contacts: float
    aht_seconds: float
    target_seconds: float = 20.0
    service_level: float = 0.8  # share answered within the target
    max_average_wait: float | None = None  # seconds
    max_occupancy: float | None = None  # e.g. 0.85
    shrinkage: float = 0.0  # share of paid time not on contacts
    interval_seconds: int = INTERVAL_SECONDS

    def check(self) -> None:
        if not 0 <= self.contacts <= 1_000_000:
            raise InvalidInput("contacts must be 0 to 1,000,000", field="contacts")
        if not 1 <= self.aht_seconds <= 86_400:
            raise InvalidInput("handle time must be 1 s to a day", field="aht_seconds")
        if not 0 <= self.target_seconds <= 3600:
            raise InvalidInput("target wait must be 0 to 3600 s", field="target_seconds")
        if not 0 < self.service_level < 1:
            raise InvalidInput("service level must be between 0 and 1", field="service_level")
        if self.max_average_wait is not None and self.max_average_wait <= 0:
            raise InvalidInput("maximum average wait must be positive", field="max_average_wait")
        if self.max_occupancy is not None and not 0 < self.max_occupancy <= 1:
            raise InvalidInput("maximum occupancy must be in (0, 1]", field="max_occupancy")
        if not 0 <= self.shrinkage < 1:
            raise InvalidInput("shrinkage must be in [0, 1)", field="shrinkage")
        if not 60 <= self.interval_seconds <= 86_400:
            raise InvalidInput("interval must be 60 s to a day", field="interval_seconds")

    @property
    def traffic(self) -> float:
        return self.contacts * self.aht_seconds / self.interval_seconds


@dataclass(frozen=True)
class Answer:
    traffic: float
    agents: int  # on contacts
    scheduled: int  # with shrinkage
    service_level: float
    average_wait: float
    waiting_chance: float
    occupancy: float


def agents_needed(inputs: Inputs) -> Answer:
    """The fewest agents meeting every target given."""
    inputs.check()
    traffic = inputs.traffic
    agents = max(math.floor(traffic) + 1, 1) if traffic > 0 else 0
    while agents <= MAX_AGENTS:
        level = service_level(agents, traffic, inputs.aht_seconds, inputs.target_seconds)
        wait = average_wait(agents, traffic, inputs.aht_seconds)
        occupancy = traffic / agents if agents else 0.0
        if (
            level >= inputs.service_level
            and (inputs.max_average_wait is None or wait <= inputs.max_average_wait)
            and (inputs.max_occupancy is None or occupancy <= inputs.max_occupancy)
        ):
            return Answer(
                traffic=traffic,
                agents=agents,
                scheduled=math.ceil(agents / (1 - inputs.shrinkage) - 1e-9),
                service_level=level,
                average_wait=wait,
                waiting_chance=erlang_c(agents, traffic),
                occupancy=occupancy,
            )
        agents += 1
    raise InvalidInput("more than 5000 agents would be needed", field="contacts")


# --- a plan for a day from history ------------------------------------------------------


@dataclass(frozen=True)
class PlanRow:
    start: datetime  # local time
    contacts: float
    aht_seconds: float
    answer: Answer


def plan(
    db: Session,
    *,
    day: date,
    tz_name: str,
    channels: tuple[str, ...],
    targets: Inputs,
    weeks: int = 4,
) -> list[PlanRow]:
    """Agents needed per half hour of ``day``: arrivals are the average of the same
    half hour on the same weekday over the last ``weeks`` weeks; handle time is the
    average over those weeks (per the channels chosen)."""
    if not 1 <= weeks <= 12:
        raise InvalidInput("history is 1 to 12 weeks", field="weeks")
    tz = ZoneInfo(tz_name)
    arrivals: dict[tuple[int, int], float] = {}
    handled = handle_sum = 0.0
    for back in range(1, weeks + 1):
        past = day - timedelta(weeks=back)
        start = datetime(past.year, past.month, past.day, tzinfo=tz)
        scope = rollup.Scope(
            grain="slot",
            start=metrics.slot_start(start),
            end=start + timedelta(days=1),
            channel=rollup.EACH,
            channels=channels,
        )
        for (period,), totals in rollup.totals_by(db, scope, ("period_start",)).items():
            local = period.astimezone(tz)
            slot = (local.hour, local.minute)
            arrivals[slot] = arrivals.get(slot, 0.0) + totals["contacts"]
            handled += totals["handled"]
            handle_sum += totals["handle_sum"]
    aht = handle_sum / handled if handled else DEFAULT_AHT
    rows = []
    first = datetime(day.year, day.month, day.day, tzinfo=tz)
    for index in range(48):
        start = first + timedelta(minutes=30 * index)
        contacts = arrivals.get((start.hour, start.minute), 0.0) / weeks
        inputs = Inputs(
            contacts=contacts,
            aht_seconds=aht,
            target_seconds=targets.target_seconds,
            service_level=targets.service_level,
            max_average_wait=targets.max_average_wait,
            max_occupancy=targets.max_occupancy,
            shrinkage=targets.shrinkage,
        )
        rows.append(
            PlanRow(start=start, contacts=contacts, aht_seconds=aht, answer=agents_needed(inputs))
        )
    return rows
