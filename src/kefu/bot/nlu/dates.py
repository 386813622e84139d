"""Dates and times in a message, resolved to tz-aware ranges in the service's time zone.

Customers place a problem in time loosely: 昨天晚上, 今天上午10点, 3月5号, 上周五,
"last Friday", "this morning at 10:30". The dialog searches transactions by time, so each
mention becomes a ``[start, end)`` range: a whole day, a part of a day, or a single minute
(``start == end``). A date without a year that would lie in the future is last year's: people
report what already happened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import cn2an

from kefu.bot.nlu.normalise import Language

SHANGHAI = ZoneInfo("Asia/Shanghai")

_WEEKDAYS_ZH = {"1": 0, "一": 0, "2": 1, "二": 1, "3": 2, "三": 2, "4": 3, "四": 3, "5": 4, "五": 4}
_WEEKDAYS_ZH |= {"6": 5, "六": 5, "7": 6, "日": 6, "天": 6}
_WEEKDAYS_EN = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS_EN = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_MONTH = "|".join(f"{name[:3]}(?:{name[3:]})?" for name in _MONTHS_EN)
_WEEKDAY = "|".join(f"{name[:3]}(?:{name[3:]})?" for name in _WEEKDAYS_EN)
_RELATIVE_DAYS = {
    "大前天": -3, "前天": -2, "昨天": -1, "昨日": -1, "昨晚": -1, "今天": 0, "今日": 0,
    "今早": 0, "今晚": 0, "明天": 1, "后天": 2, "the day before yesterday": -2,
    "yesterday": -1, "last night": -1, "today": 0, "this morning": 0, "this afternoon": 0,
    "this evening": 0, "tonight": 0, "tomorrow": 1,
}  # fmt: skip
# Parts of the day as [start hour, end hour).
_PARTS = {
    "凌晨": (0, 6), "清晨": (5, 8), "早上": (6, 9), "早晨": (6, 9), "上午": (6, 12),
    "中午": (11, 14), "下午": (12, 18), "傍晚": (17, 19), "晚上": (18, 24), "夜里": (20, 24),
    "深夜": (22, 24), "半夜": (22, 24), "白天": (8, 18), "morning": (6, 12),
    "afternoon": (12, 18), "evening": (18, 24), "night": (20, 24),
}  # fmt: skip
_IMPLIED_PART = {"昨晚": "晚上", "今晚": "晚上", "今早": "早上", "last night": "evening"}
_IMPLIED_PART |= {"this morning": "morning", "this afternoon": "afternoon"}
_IMPLIED_PART |= {"this evening": "evening", "tonight": "evening"}
_PM_PARTS = frozenset(
    {"下午", "傍晚", "晚上", "夜里", "深夜", "半夜", "afternoon", "evening", "night"}
)

_RELATIVE = "|".join(sorted((re.escape(key) for key in _RELATIVE_DAYS), key=len, reverse=True))
_PART = "|".join(sorted(_PARTS, key=len, reverse=True))
_DAY = (
    r"(?:(?P<year>\d{4})年)?(?P<month>\d{1,2})月(?P<day>\d{1,2})[日号]?"
    r"|(?P<iso_year>\d{4})[-/.](?P<iso_month>\d{1,2})[-/.](?P<iso_day>\d{1,2})"
    r"|(?P<dmy_day>\d{1,2})/(?P<dmy_month>\d{1,2})/(?P<dmy_year>\d{4})"
    rf"|(?P<relative>{_RELATIVE})"
    r"|(?P<week>上上|上|这|本|下)?个?(?:周|星期|礼拜)(?P<weekday_zh>[1-7一二三四五六日天])"
    rf"|(?:(?P<week_en>last|this|next|on)\s+)?(?P<weekday_en>{_WEEKDAY})\b"
    rf"|(?P<en_month>{_MONTH})\.?\s+(?P<en_day>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s*(?P<en_year>\d{{4}}))?"
    rf"|(?:the\s+)?(?P<en_day2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<en_month2>{_MONTH})\b"
    r"|(?P<ago>\d+|[一二两三四五六七八九十]+)\s*(?P<ago_unit>天|个?小时|分钟|days?|hours?|minutes?)"
    r"\s*(?:前|ago)"
)
_CLOCK = (
    r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2})"
    r"|点(?:(?P<half>半)|(?P<minute_zh>\d{1,2})分?|钟)?|时(?:(?P<minute_shi>\d{1,2})分)?)"
    r"(?:\s*(?P<ampm>am|pm|a\.m\.|p\.m\.))?"
    r"|(?P<hour_en>\d{1,2})\s*(?P<ampm_en>am|pm|a\.m\.|p\.m\.)"
)
_MENTION = re.compile(
    rf"(?<![\d:])(?:(?P<date>{_DAY})[\s,]*(?:in\s+the\s+)?)?"
    rf"(?:(?P<part>{_PART})[\s,]*)?"
    rf"(?:(?:at|around|about|约|大概|大约)?\s*(?P<clock>{_CLOCK}))?(?![\d:])"
)


@dataclass(frozen=True)
class TimeMention:
    """``[start, end)`` in the service time zone; a point in time has ``start == end``."""

    text: str
    start: datetime
    end: datetime

    @property
    def is_point(self) -> bool:
        return self.start == self.end


def _past_date(today: date, month: int, day: int, year: int | None) -> date | None:
    try:
        if year is not None:
            return date(year, month, day)
        candidate = date(today.year, month, day)
        return candidate if candidate <= today else date(today.year - 1, month, day)
    except ValueError:
        return None


def _month_number(name: str) -> int:
    return next(index for index, full in enumerate(_MONTHS_EN, 1) if full.startswith(name[:3]))


def _weekday_date(today: date, weekday: int, week: str | None) -> date:
    monday = today - timedelta(days=today.weekday())
    if week in {"上", "上上"}:
        return monday - timedelta(weeks=len(week)) + timedelta(days=weekday)
    if week in {"这", "本", "this"}:
        return monday + timedelta(days=weekday)
    if week in {"下", "next"}:
        return monday + timedelta(weeks=1, days=weekday)
    back = (today.weekday() - weekday) % 7
    if week == "last" and back == 0:
        back = 7
    return today - timedelta(days=back)


def _resolve_day(match: re.Match[str], now: datetime, lang: Language) -> date | datetime | None:
    today = now.date()
    group = match.group
    if group("month"):
        return _past_date(today, int(group("month")), int(group("day")), _year(group("year")))
    if group("iso_year"):
        return _past_date(
            today, int(group("iso_month")), int(group("iso_day")), int(group("iso_year"))
        )
    if group("dmy_year"):
        # 05/03/2024: day first in English (as written in Hong Kong, Singapore, the UK);
        # Chinese users write the year first, so in Chinese this is month first.
        first, second = int(group("dmy_day")), int(group("dmy_month"))
        day, month = (first, second) if lang == "en" else (second, first)
        return _past_date(today, month, day, int(group("dmy_year")))
    if group("relative"):
        return today + timedelta(days=_RELATIVE_DAYS[group("relative")])
    if group("weekday_zh"):
        return _weekday_date(today, _WEEKDAYS_ZH[group("weekday_zh")], group("week"))
    if group("weekday_en"):
        weekday = _month_or_weekday(group("weekday_en"), _WEEKDAYS_EN)
        return _weekday_date(today, weekday, group("week_en"))
    if group("en_month"):
        return _past_date(
            today, _month_number(group("en_month")), int(group("en_day")), _year(group("en_year"))
        )
    if group("en_month2"):
        return _past_date(today, _month_number(group("en_month2")), int(group("en_day2")), None)
    if group("ago"):
        amount = int(cn2an.cn2an(group("ago"), "smart"))
        unit = group("ago_unit")
        if unit.startswith(("天", "day")):
            return today - timedelta(days=amount)
        if "时" in unit or unit.startswith("hour"):
            return now - timedelta(hours=amount)
        return now - timedelta(minutes=amount)
    return None


def _month_or_weekday(name: str, names: tuple[str, ...]) -> int:
    return next(index for index, full in enumerate(names) if full.startswith(name[:3]))


def _year(text: str | None) -> int | None:
    return int(text) if text else None


def _clock(match: re.Match[str], part: str | None) -> tuple[int, int] | None:
    group = match.group
    hour_text = group("hour") or group("hour_en")
    if hour_text is None:
        return None
    hour = int(hour_text)
    minute_text = group("minute") or group("minute_zh") or group("minute_shi")
    minute = 30 if group("half") else int(minute_text or 0)
    ampm = (group("ampm") or group("ampm_en") or "").replace(".", "")
    if (ampm == "pm" and hour < 12) or (ampm != "am" and part in _PM_PARTS and hour < 12):
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    return hour, minute


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    if hour >= 24:
        return datetime.combine(day + timedelta(days=1), time(0), SHANGHAI)
    return datetime.combine(day, time(hour, minute), SHANGHAI)


def _mention(match: re.Match[str], now: datetime, lang: Language) -> TimeMention | None:
    text = match.group(0).strip(" ,")
    resolved = _resolve_day(match, now, lang) if match.group("date") else None
    if match.group("date") and resolved is None:
        return None
    if isinstance(resolved, datetime):
        return TimeMention(text, resolved, resolved)
    part = match.group("part") or _IMPLIED_PART.get(match.group("relative") or "")
    clock = _clock(match, part) if match.group("clock") else None
    if match.group("clock") and clock is None:
        return None
    if resolved is None and part is None and clock is None:
        return None
    day = resolved or now.date()
    if clock is not None:
        point = _at(day, *clock)
        return TimeMention(text, point, point)
    if part is not None:
        first, last = _PARTS[part]
        return TimeMention(text, _at(day, first), _at(day, last))
    return TimeMention(text, _at(day, 0), _at(day, 24))


def extract_times(
    normalised: str, *, now: datetime, lang: Language
) -> list[tuple[TimeMention, tuple[int, int]]]:
    """Each time mention with its span in ``normalised`` (so amounts can skip it)."""
    local_now = now.astimezone(SHANGHAI)
    found: list[tuple[TimeMention, tuple[int, int]]] = []
    for match in _MENTION.finditer(normalised):
        if match.end() == match.start():
            continue
        mention = _mention(match, local_now, lang)
        if mention is not None:
            found.append((mention, match.span()))
    return found
