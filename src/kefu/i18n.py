"""zh-CN and en message catalogues (gettext .po files) and language negotiation.

Catalogue ids are stable keys such as ``error.not_found`` rather than English source text,
so a text missing from either language is caught by a test instead of silently falling
back. Placeholders use ``str.format`` names: ``{minutes}``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from babel.messages.pofile import read_po

Lang = Literal["zh-CN", "en"]
LANGUAGES: tuple[Lang, ...] = ("zh-CN", "en")
_LOCALE_DIRS: dict[Lang, str] = {"zh-CN": "zh_CN", "en": "en"}
_LOCALE_ROOT = Path(__file__).parent / "locale"


@lru_cache
def catalogue(lang: Lang) -> dict[str, str]:
    """Every ``*.po`` file of the language merged: each domain keeps its own file."""
    merged: dict[str, str] = {}
    for path in sorted((_LOCALE_ROOT / _LOCALE_DIRS[lang] / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            parsed = read_po(handle, locale=_LOCALE_DIRS[lang])
        for message in parsed:
            if message.id and isinstance(message.string, str) and message.string:
                key = str(message.id)
                if key in merged:
                    raise RuntimeError(f"message id {key!r} is defined twice ({path.name})")
                merged[key] = str(message.string)
    return merged


def translate(key: str, lang: Lang, /, **params: Any) -> str:
    """The text for ``key`` in ``lang``; the key itself if a catalogue lacks it.
    ``lang`` is positional only: an error's own parameters may hold a ``lang`` (the
    article version that went stale), which used to collide with it."""
    text = catalogue(lang).get(key) or catalogue("en").get(key) or key
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


# Chinese lists items with the enumeration comma 、 (一线客服、二线专员), never ", "
_LIST_SEPARATORS: dict[Lang, str] = {"zh-CN": "、", "en": ", "}


def listed(items: Iterable[str], lang: Lang) -> str:
    """Texts as one list in ``lang``'s punctuation: 中文、英文 / Chinese, English."""
    return _LIST_SEPARATORS[lang].join(items)


def zone_label(zone: str, lang: Lang) -> str:
    """How a person names a time zone: 北京时间 / Beijing time for Asia/Shanghai, never the
    IANA id; a zone without a name of its own by its offset from UTC (UTC+08:00 时间)."""
    key = f"time.zone.{zone}"
    named = translate(key, lang)
    if named != key:
        return named
    offset = datetime.now(UTC).astimezone(ZoneInfo(zone)).strftime("%z")
    return translate("time.zone.offset", lang, offset=f"{offset[:3]}:{offset[3:]}")


def normalise_lang(value: str | None) -> Lang | None:
    """Map 'zh', 'zh-cn', 'zh_Hans_CN', 'en-US'... to a supported language, or None."""
    if not value:
        return None
    tag = value.strip().replace("_", "-").lower()
    if tag.startswith("zh"):
        return "zh-CN"
    if tag.startswith("en"):
        return "en"
    return None


def negotiate(accept_language: str | None, default: Lang) -> Lang:
    """Pick the best supported language from an ``Accept-Language`` header."""
    if not accept_language:
        return default
    choices: list[tuple[float, int, Lang]] = []
    for index, part in enumerate(accept_language.split(",")):
        pieces = part.strip().split(";")
        lang = normalise_lang(pieces[0])
        if lang is None:
            continue
        quality = 1.0
        for param in pieces[1:]:
            name, _, raw = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(raw)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            choices.append((-quality, index, lang))
    if not choices:
        return default
    return sorted(choices)[0][2]
