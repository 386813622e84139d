"""A tap sends a value, not words: it says nothing about the language the customer writes
in, even as the first message of a conversation, where one English word would."""

from __future__ import annotations

import pytest

from kefu.bot.flows.common import TAP_WORDS
from kefu.bot.service import SOMETHING_ELSE, language_of


@pytest.mark.parametrize(
    "tap", sorted(TAP_WORDS | {"Yes", "human_agent", "account_locked", SOMETHING_ELSE, "tx:12"})
)
def test_a_tap_says_no_language(tap: str) -> None:
    assert language_of(tap, first=True) is None


@pytest.mark.parametrize(("text", "lang"), [("hello", "en"), ("你好", "zh-CN")])
def test_a_first_word_does(text: str, lang: str) -> None:
    assert language_of(text, first=True) == lang
