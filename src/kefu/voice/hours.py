"""When people answer the hotline (``KEFU_VOICE_SERVICE_HOURS``): ``7x24`` (the default)
or opening hours such as ``mon-fri 09:00-18:00, sat-sun 10:00-16:00`` in the service's
time zone. Self-service works at any hour; only a transfer to a person checks this."""

from __future__ import annotations

from datetime import datetime, time

from kefu.config import Settings
from kefu.i18n import Lang
from kefu.opening_hours import parse_hours
from kefu.voice.speech import number

ROUND_THE_CLOCK = "7x24"
_DAYS: dict[Lang, tuple[str, ...]] = {
    "zh-CN": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


def _round_the_clock(settings: Settings) -> bool:
    return settings.voice_service_hours.strip().lower() == ROUND_THE_CLOCK


def open_at(settings: Settings, moment: datetime) -> bool:
    if _round_the_clock(settings):
        return True
    local = moment.astimezone(settings.tz)
    window = parse_hours(settings.voice_service_hours).get(local.weekday())
    return window is not None and window[0] <= local.time() < window[1]


def _clock(value: time, lang: Lang) -> str:
    if value == time.max:
        return "二十四点" if lang == "zh-CN" else "midnight"
    if lang == "zh-CN":
        text = f"{number(value.hour, lang)}点"
        return text + (f"{number(value.minute, lang)}分" if value.minute else "")
    hour = value.hour % 12 or 12
    suffix = "a.m." if value.hour < 12 else "p.m."
    minutes = f" {number(value.minute, lang)}" if value.minute else ""
    return f"{number(hour, lang)}{minutes} {suffix}"


def describe(settings: Settings, lang: Lang) -> str:
    """The hours as said on the phone: 周一到周五九点到十八点 / Monday to Friday, ..."""
    if _round_the_clock(settings):
        return "全天二十四小时" if lang == "zh-CN" else "twenty-four hours a day"
    runs: list[tuple[int, int, tuple[time, time]]] = []
    for day, window in sorted(parse_hours(settings.voice_service_hours).items()):
        if runs and runs[-1][1] == day - 1 and runs[-1][2] == window:
            runs[-1] = (runs[-1][0], day, window)
        else:
            runs.append((day, day, window))
    names = _DAYS[lang]
    parts = []
    for first, last, (start, end) in runs:
        days = (
            names[first]
            if first == last
            else f"{names[first]}{'到' if lang == 'zh-CN' else ' to '}{names[last]}"
        )
        if lang == "zh-CN":
            parts.append(f"{days}{_clock(start, lang)}到{_clock(end, lang)}")
        else:
            parts.append(f"{days}, {_clock(start, lang)} to {_clock(end, lang)}")
    return ("，" if lang == "zh-CN" else "; ").join(parts)
