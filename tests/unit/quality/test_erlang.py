"""Erlang C against published values.

- Erlang B tables: B(N=10, A=5) = 0.01838 and B(N=5, A=2) = 0.03670 (any Erlang B table).
- C(3, 2) = 4/9 exactly (from the closed form).
- The Call Centre Helper worked example — 100 calls in 30 minutes, 180 s handle time
  (10 Erlangs), target 80 % in 20 s: with 11..15 agents the chance to wait is 68.21 %,
  44.94 %, 28.53 %, 17.41 %, 10.20 %, and 14 agents give a service level of 88.8 %, so 13
  agents (79.6 %) fall short and 14 is the answer.
"""

from __future__ import annotations

import math

import pytest

from kefu.errors import InvalidInput
from kefu.quality import staffing


@pytest.mark.parametrize(
    ("agents", "traffic", "expected"), [(10, 5.0, 0.01838), (5, 2.0, 0.03670), (1, 1.0, 0.5)]
)
def test_erlang_b_table(agents: int, traffic: float, expected: float) -> None:
    assert staffing.erlang_b(agents, traffic) == pytest.approx(expected, abs=5e-6)


def test_erlang_c_closed_form() -> None:
    assert staffing.erlang_c(3, 2.0) == pytest.approx(4 / 9, rel=1e-12)
    assert staffing.erlang_c(10, 5.0) == pytest.approx(0.0361, abs=5e-5)


@pytest.mark.parametrize(
    ("agents", "waiting"),
    [(11, 0.6821), (12, 0.4494), (13, 0.2853), (14, 0.1741), (15, 0.1020)],
)
def test_published_worked_example(agents: int, waiting: float) -> None:
    assert staffing.erlang_c(agents, 10.0) == pytest.approx(waiting, abs=5e-5)


def test_agents_needed_for_80_in_20() -> None:
    answer = staffing.agents_needed(staffing.Inputs(contacts=100, aht_seconds=180))
    assert answer.traffic == pytest.approx(10.0)
    assert answer.agents == 14
    assert answer.service_level == pytest.approx(0.888, abs=5e-4)
    assert staffing.service_level(13, 10.0, 180, 20) < 0.8
    assert answer.average_wait == pytest.approx(7.8, abs=0.05)
    assert answer.occupancy == pytest.approx(10 / 14)


def test_large_traffic_stays_finite_and_monotone() -> None:
    # A^N / N! overflows a float long before this; the recurrence does not
    previous = 1.0
    for agents in range(1001, 1100, 7):
        waiting = staffing.erlang_c(agents, 1000.0)
        assert 0.0 <= waiting < previous and math.isfinite(waiting)
        previous = waiting
    answer = staffing.agents_needed(staffing.Inputs(contacts=6000, aht_seconds=300))
    assert answer.traffic == pytest.approx(1000.0)
    assert 1000 < answer.agents < 1100


def test_other_targets_and_shrinkage() -> None:
    base = staffing.agents_needed(staffing.Inputs(contacts=100, aht_seconds=180))
    tight = staffing.agents_needed(
        staffing.Inputs(contacts=100, aht_seconds=180, max_average_wait=3.0)
    )
    assert tight.agents > base.agents and tight.average_wait <= 3.0
    calm = staffing.agents_needed(staffing.Inputs(contacts=100, aht_seconds=180, max_occupancy=0.6))
    assert calm.occupancy <= 0.6 and calm.agents == 17
    shrunk = staffing.agents_needed(staffing.Inputs(contacts=100, aht_seconds=180, shrinkage=0.3))
    assert shrunk.scheduled == math.ceil(14 / 0.7)
    assert staffing.agents_needed(staffing.Inputs(contacts=0, aht_seconds=180)).agents == 0


def test_no_agents_cannot_keep_up() -> None:
    assert staffing.erlang_c(10, 10.0) == 1.0
    assert staffing.service_level(9, 10.0, 180, 20) == 0.0
    assert math.isinf(staffing.average_wait(10, 12.0, 180))


@pytest.mark.parametrize(
    ("field", "inputs"),
    [
        ("contacts", {"contacts": -1}),
        ("aht_seconds", {"aht_seconds": 0}),
        ("service_level", {"service_level": 1.0}),
        ("shrinkage", {"shrinkage": 1.0}),
        ("max_occupancy", {"max_occupancy": 0}),
    ],
)
def test_bad_inputs_are_named(field: str, inputs: dict[str, float]) -> None:
    values = {"contacts": 10.0, "aht_seconds": 100.0, **inputs}
    with pytest.raises(InvalidInput) as raised:
        staffing.agents_needed(staffing.Inputs(**values))  # type: ignore[arg-type]
    assert raised.value.params["field"] == field
