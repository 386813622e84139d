"""The committed-time column in the console says why a case is shown in red."""

from datetime import UTC, datetime, timedelta

from kefu.cases.case_page import clock
from kefu.cases.models import Case

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def case(**fields: object) -> Case:
    values: dict[str, object] = {
        "status": "open",
        "resolution_due_at": NOW + timedelta(days=6, hours=5),
        "resolution_warn_at": NOW + timedelta(days=5),
        "first_response_due_at": NOW + timedelta(hours=2),
        "first_response_warn_at": NOW + timedelta(hours=1),
        "first_responded_at": None,
    }
    values.update(fields)
    return Case(**values)


def test_time_left_to_resolution_when_nothing_is_owed_soon() -> None:
    shown = clock(case(), NOW, "zh-CN")
    assert shown.left == "剩余 6 天 5 小时"
    assert not shown.at_risk


def test_a_late_first_reply_is_named_not_the_distant_resolution() -> None:
    late = case(
        first_response_due_at=NOW - timedelta(minutes=30),
        first_response_warn_at=NOW - timedelta(hours=1),
    )
    assert clock(late, NOW, "zh-CN").left == "首次回复已超时 30 分钟"
    assert clock(late, NOW, "en").left == "first reply late by 30 min"
    assert clock(late, NOW, "en").at_risk


def test_a_warned_first_reply_says_how_long_is_left() -> None:
    warned = case(first_response_warn_at=NOW - timedelta(minutes=5))
    shown = clock(warned, NOW, "en")
    assert shown.left == "first reply due in 2 h 0 min" and shown.at_risk


def test_once_answered_the_first_reply_no_longer_counts() -> None:
    answered = case(
        first_response_due_at=NOW - timedelta(minutes=30),
        first_responded_at=NOW - timedelta(hours=1),
    )
    shown = clock(answered, NOW, "en")
    assert shown.left.endswith("left") and not shown.at_risk


def test_a_late_resolution_outranks_the_first_reply() -> None:
    late = case(
        resolution_due_at=NOW - timedelta(hours=3),
        resolution_warn_at=NOW - timedelta(hours=5),
        first_response_due_at=NOW - timedelta(hours=4),
    )
    shown = clock(late, NOW, "zh-CN")
    assert shown.left == "已超时 3 小时 0 分钟" and shown.late


def test_a_paused_clock_is_not_red_unless_the_first_reply_is_owed() -> None:
    waiting = case(resolution_due_at=None, resolution_warn_at=NOW - timedelta(hours=1))
    assert not clock(waiting, NOW, "en").at_risk  # no due time: waits on the customer
    unanswered = case(resolution_due_at=None, first_response_warn_at=NOW - timedelta(minutes=5))
    shown = clock(unanswered, NOW, "en")
    assert shown.left == "first reply due in 2 h 0 min" and shown.at_risk and not shown.late
