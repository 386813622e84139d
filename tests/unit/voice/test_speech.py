"""Figures spoken as words: amounts as money, references digit by digit, times as said."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from kefu.voice import speech

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("amount", "zh", "en"),
    [
        (
            "1234.56",
            "一千二百三十四元五角六分",
            "one thousand two hundred thirty-four yuan and fifty-six fen",
        ),
        ("500.00", "五百元", "five hundred yuan"),
        ("3000.05", "三千元零五分", "three thousand yuan and five fen"),
        ("0.50", "五角", "fifty fen"),
        ("0.00", "零元", "zero yuan"),
        ("19000.00", "一万九千元", "nineteen thousand yuan"),
        ("100000000.00", "一亿元", "one hundred million yuan"),
    ],
)
def test_money_in_both_languages(amount: str, zh: str, en: str) -> None:
    assert speech.money(Decimal(amount), "zh-CN") == zh
    assert speech.money(Decimal(amount), "en") == en


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (0, "zero"),
        (13, "thirteen"),
        (40, "forty"),
        (105, "one hundred five"),
        (2026, "two thousand twenty-six"),
        (1_000_001, "one million one"),
    ],
)
def test_english_numbers(value: int, words: str) -> None:
    assert speech.english_number(value) == words


def test_reference_is_read_digit_by_digit_in_its_printed_groups() -> None:
    assert speech.reference("2611076543214", "zh-CN") == "二六幺幺，零七，六五四，三二幺，四"
    assert speech.reference("2611076543214", "en") == (
        "two six one one, zero seven, six five four, three two one, four"
    )


def test_keys_are_named() -> None:
    assert speech.key("1", "zh-CN") == "一"  # a key to press is 一, not 幺
    assert speech.key("*", "zh-CN") == "星号键"
    assert speech.key("#", "en") == "the pound key"
    assert speech.digits("12*#x", "en") == "one two star the pound key"


def test_times_are_said_in_the_service_zone() -> None:
    moment = datetime(2026, 11, 25, 10, 5, tzinfo=UTC)  # 18:05 in Shanghai
    assert speech.moment(moment, "zh-CN", SHANGHAI) == "十一月二十五日晚上六点五分"
    assert speech.moment(moment, "en", SHANGHAI) == "November twenty-five, at six oh five p.m."
    noon = datetime(2026, 1, 2, 4, 0, tzinfo=UTC)
    assert speech.moment(noon, "zh-CN", SHANGHAI) == "一月二日中午十二点"


def test_minutes_round_up_and_never_say_zero() -> None:
    assert speech.minutes(0, "zh-CN") == "一分钟"
    assert speech.minutes(61, "en") == "two minutes"
    assert speech.minutes(60, "en") == "one minute"


def test_free_texts_lose_every_figure() -> None:
    zh = speech.spoken("每天 08:00–22:00；7×24 小时；境外请拨 +86 400 800 9595；3 天", "zh-CN")
    assert (
        zh
        == "每天 八点到二十二点；七天二十四小时；境外请拨 加八六，四零零，八零零，九五九五；三 天"
    )
    en = speech.spoken("daily 08:00–22:00, call 95099", "en")
    assert en == "daily eight a.m. to ten p.m., call nine five zero nine nine"
    assert not any(char.isdigit() for char in zh + en)
