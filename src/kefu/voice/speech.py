"""Numbers, money, references and times spelled out as words in the caller's language.

A text-to-speech voice guesses at "1234.56" and "2611076543214": a price, a year, a phone
number? The hotline therefore speaks only words: amounts as money (一千二百三十四元五角六分,
"one thousand two hundred thirty-four yuan and fifty-six fen"), references and codes digit
by digit in groups, times as a person says them. Chinese numbers come from cn2an; English
ones from the small speller below. Digits read one by one use 幺 for 1, as Chinese phone
numbers are read.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import cn2an

from kefu.i18n import Lang

_ZH_DIGITS = "零幺二三四五六七八九"
_EN_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_EN_TEENS = (
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_EN_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# parts of the day as said before a time: 凌晨 before six, 中午 from twelve to one
_ZH_PERIODS = ((6, "凌晨"), (12, "上午"), (13, "中午"), (18, "下午"), (24, "晚上"))
_KEY_NAMES: dict[Lang, dict[str, str]] = {
    "zh-CN": {"*": "星号键", "#": "井号键"},
    "en": {"*": "star", "#": "the pound key"},
}


def _en_below_thousand(number: int) -> str:
    hundreds, rest = divmod(number, 100)
    words = []
    if hundreds:
        words.append(f"{_EN_DIGITS[hundreds]} hundred")
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(_EN_TENS[tens] + (f"-{_EN_DIGITS[ones]}" if ones else ""))
    elif rest >= 10:
        words.append(_EN_TEENS[rest - 10])
    elif rest or not hundreds:
        words.append(_EN_DIGITS[rest])
    return " ".join(words)


def english_number(number: int) -> str:
    """``1234`` → ``one thousand two hundred thirty-four``."""
    if number < 0:
        return "minus " + english_number(-number)
    if number < 1000:
        return _en_below_thousand(number)
    words = []
    for scale, name in _EN_SCALES:
        if number >= scale:
            high, number = divmod(number, scale)
            words.append(f"{english_number(high)} {name}")
    if number:
        words.append(_en_below_thousand(number))
    return " ".join(words)


def number(value: int, lang: Lang) -> str:
    """A count or a quantity: 三百二十 / three hundred twenty."""
    if lang == "zh-CN":
        return str(cn2an.an2cn(str(value), "low"))
    return english_number(value)


def count(value: int, lang: Lang) -> str:
    """A count before a measure word: 两个, not 二个 / two."""
    if lang == "zh-CN" and value == 2:
        return "两"
    return number(value, lang)


def money(amount: Decimal, lang: Lang) -> str:
    """Yuan and fen as they are said: 五百元, 三千元零五分, five hundred yuan."""
    fen_total = int((amount * 100).to_integral_value())
    negative = fen_total < 0
    yuan, fen = divmod(abs(fen_total), 100)
    jiao, cents = divmod(fen, 10)
    if lang == "zh-CN":
        parts = []
        if yuan or not fen:
            parts.append(number(yuan, lang) + "元")
        if jiao:
            parts.append(number(jiao, lang) + "角")
        if cents:
            parts.append(("零" if yuan and not jiao else "") + number(cents, lang) + "分")
        return ("负" if negative else "") + "".join(parts)
    text = f"{english_number(yuan)} yuan" if yuan or not fen else ""
    if fen:
        text = (text + " and " if text else "") + f"{english_number(fen)} fen"
    return ("minus " if negative else "") + text


def digits(value: str, lang: Lang, groups: tuple[int, ...] = ()) -> str:
    """Read digit by digit, a pause between ``groups`` (lengths): 二六幺幺，零七…

    Keys other than digits (``*``, ``#``) are named; anything else is dropped.
    """
    spoken: list[str] = []
    for char in value:
        if char.isdigit() and char.isascii():
            spoken.append(_ZH_DIGITS[int(char)] if lang == "zh-CN" else _EN_DIGITS[int(char)])
        elif char in "*#":
            spoken.append(_KEY_NAMES[lang][char])
    chunks: list[list[str]] = []
    position = 0
    for size in groups:
        chunks.append(spoken[position : position + size])
        position += size
    chunks.append(spoken[position:])
    joiner = "" if lang == "zh-CN" else " "
    separator = "，" if lang == "zh-CN" else ", "
    return separator.join(joiner.join(chunk) for chunk in chunks if chunk)


def key(value: str, lang: Lang) -> str:
    """One key to press: 一 / one / 星号键 / star. A lone 1 is 一 here, not 幺."""
    if value and value in "*#":
        return _KEY_NAMES[lang][value]
    if lang == "zh-CN":
        return "一" if value == "1" else digits(value, lang)
    return digits(value, lang)


def minutes(seconds: int, lang: Lang) -> str:
    """A wait, rounded up to whole minutes and never less than one: 约三分钟 / about 3."""
    whole = max(1, -(-seconds // 60))
    if lang == "zh-CN":
        return f"{number(whole, lang)}分钟"
    return f"{english_number(whole)} minute" + ("" if whole == 1 else "s")


def moment(value: datetime, lang: Lang, tz: ZoneInfo) -> str:
    """A date and time as said on the phone, in the service's time zone."""
    local = value.astimezone(tz)
    if lang == "zh-CN":
        text = f"{number(local.month, lang)}月{number(local.day, lang)}日"
        hour = local.hour
        period = next(name for end, name in _ZH_PERIODS if hour < end)
        return text + period + _clock(hour if hour <= 12 else hour - 12, local.minute, lang)
    day = f"{_EN_MONTHS[local.month - 1]} {english_number(local.day)}"
    return f"{day}, at {_clock(local.hour, local.minute, lang)}"


def reference(keypad_digits: str, lang: Lang) -> str:
    """A case reference in its 13-digit keypad form, grouped as printed: 2611 07 654 321 4."""
    return digits(keypad_digits, lang, groups=(4, 2, 3, 3))


_CLOCK = re.compile(r"(?<!\d)([01]?\d|2[0-4])[:：]([0-5]\d)(?!\d)")
_ROUND_THE_CLOCK = re.compile(r"7\s*[×xX*]\s*24(?:\s*小时)?")
_LONG_NUMBER = re.compile(r"\+?\d(?:[\d\s\-]*\d)?")
_RANGE_DASH = re.compile(r"\s*[–—~～]\s*")


def _clock(hour: int, minute: int, lang: Lang) -> str:
    if lang == "zh-CN":
        return f"{number(hour, lang)}点" + (f"{number(minute, lang)}分" if minute else "")
    if hour in (0, 24):
        return "midnight"
    suffix = "a.m." if hour < 12 else "p.m."
    clock = english_number(hour % 12 or 12)
    if minute:
        clock += " " + ("oh " if minute < 10 else "") + english_number(minute)
    return f"{clock} {suffix}"


def _number_run(run: str, lang: Lang) -> str:
    """Long digit runs (phone numbers) digit by digit, short ones as numbers."""
    count = sum(char.isdigit() for char in run)
    if count >= 5 or run.startswith("+") or (len(run) > 1 and run[0] == "0"):
        groups = [part for part in re.split(r"[\s\-]+", run.lstrip("+")) if part]
        lengths = tuple(len(part) for part in groups[:-1])
        prefix = ("加" if lang == "zh-CN" else "plus ") if run.startswith("+") else ""
        return prefix + digits("".join(groups), lang, groups=lengths)
    return number(int(re.sub(r"\D", "", run)), lang)


def spoken(text: str, lang: Lang) -> str:
    """A free text (a registry note, an admin's menu text) with every figure in words:
    times as times, 7×24 as round the clock, phone numbers digit by digit."""
    text = _ROUND_THE_CLOCK.sub("七天二十四小时" if lang == "zh-CN" else "twenty-four seven", text)
    text = _CLOCK.sub(lambda m: _clock(int(m.group(1)), int(m.group(2)), lang), text)
    text = _RANGE_DASH.sub("到" if lang == "zh-CN" else " to ", text)
    return _LONG_NUMBER.sub(lambda m: _number_run(m.group(), lang), text)
