"""Which promise an inbox row's badge names: a row shows the committed resolution time, so
a bare "late" beside a date days ahead hid that the first reply was the one overdue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kefu.cases.models import Case
from kefu.chat.inbox import late
from kefu.i18n import translate

NOW = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def case(**clock: datetime | None) -> Case:
    fields: dict[str, datetime | None] = {
        "first_response_due_at": NOW + HOUR,
        "resolution_due_at": NOW + 48 * HOUR,
        "first_responded_at": None,
    }
    fields.update(clock)
    return Case(**fields)


def test_a_case_on_time_has_no_badge() -> None:
    assert late(case(), NOW) is None
    answered = case(first_response_due_at=NOW - HOUR, first_responded_at=NOW - 2 * HOUR)
    assert late(answered, NOW) is None


def test_an_owed_first_reply_past_its_time_is_named_as_such() -> None:
    assert late(case(first_response_due_at=NOW - HOUR), NOW) == "first_response"
    assert late(case(first_response_breached_at=NOW - HOUR, first_responded_at=NOW), NOW) == (
        "first_response"
    )


def test_a_resolution_past_its_time_comes_first() -> None:
    both = case(first_response_due_at=NOW - 3 * HOUR, resolution_due_at=NOW - HOUR)
    assert late(both, NOW) == "resolution"
    breached_then_paused = case(resolution_breached_at=NOW - HOUR, resolution_due_at=None)
    assert late(breached_then_paused, NOW) == "resolution"


def test_each_badge_reads_in_both_languages() -> None:
    for which in ("first_response", "resolution"):
        key = f"chat.console.case.late.{which}"
        zh, en = translate(key, "zh-CN"), translate(key, "en")
        assert key not in (zh, en) and zh != en
    assert translate("chat.console.case.late.first_response", "zh-CN") == "首次回复已超时"
