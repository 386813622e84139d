"""The one step every yes/no question of the guided flows answers through: a tap or a short
typed yes or no, in either language, runs the matching branch; anything else is no answer."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import pytest

from kefu.bot.dialog import Dialog, Reply
from kefu.bot.flows.common import yes_no_step

YES_REPLY, NO_REPLY = Reply("yes branch"), Reply("no branch")
step = yes_no_step(lambda d: YES_REPLY, lambda d: NO_REPLY)
case_step = yes_no_step(lambda d: YES_REPLY, lambda d: None, yes_value="open_case")


def said(text: str) -> Dialog:
    return cast(Dialog, SimpleNamespace(text=text))


@pytest.mark.parametrize("text", ["yes", " YES ", "好的。", "是", "Yes please!", "是我本人", "ok"])
def test_a_yes_runs_the_yes_branch(text: str) -> None:
    assert step(said(text)) is YES_REPLY


@pytest.mark.parametrize("text", ["no", "不用", "不是我", "No thanks.", "not me", "不需要！"])
def test_a_no_runs_the_no_branch(text: str) -> None:
    assert step(said(text)) is NO_REPLY


@pytest.mark.parametrize("text", ["我的充值没到账", "open_case", "yes I want a refund", ""])
def test_anything_else_is_no_answer(text: str) -> None:
    assert step(said(text)) is None


def test_a_yes_tap_of_its_own_counts_as_yes_and_so_does_a_typed_yes() -> None:
    assert case_step(said("open_case")) is YES_REPLY
    assert case_step(said("好")) is YES_REPLY
    assert case_step(said("no")) is None
    assert case_step(said("human_agent")) is None
