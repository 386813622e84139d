"""Every hotline text in both languages with the same placeholders, Chinese in zh-CN,
no figure a voice would have to guess at; service hours."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.pofile import read_po

from kefu.config import Settings
from kefu.voice import hours

LOCALE = Path(__file__).resolve().parents[3] / "src" / "kefu" / "locale"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def entries(lang: str) -> dict[str, str]:
    with (LOCALE / lang / "LC_MESSAGES" / "voice.po").open("rb") as handle:
        return {str(m.id): str(m.string) for m in read_po(handle) if m.id}


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    zh, en = entries("zh_CN"), entries("en")
    assert zh.keys() == en.keys()
    for key in zh:
        assert set(PLACEHOLDER.findall(zh[key])) == set(PLACEHOLDER.findall(en[key])), key
        assert re.search(r"[\u4e00-\u9fff]", zh[key]), key


def test_spoken_texts_carry_no_digits() -> None:
    for lang in ("zh_CN", "en"):
        for key, text in entries(lang).items():
            if key.startswith("voice.") and not key.startswith(("voice.record.", "voice.sim.")):
                assert not re.search(r"[0-9]", text), (lang, key, text)


def test_round_the_clock_by_default() -> None:
    settings = Settings()
    assert settings.voice_service_hours == "7x24"
    assert hours.open_at(settings, datetime(2026, 1, 1, 19, 0, tzinfo=UTC))
    assert hours.describe(settings, "zh-CN") == "全天二十四小时"


def test_opening_hours_in_the_service_zone() -> None:
    settings = Settings(voice_service_hours="mon-fri 09:00-18:00, sat-sun 10:00-16:00")
    # Wednesday 2026-11-25: 01:00 UTC is 09:00 in Shanghai
    assert hours.open_at(settings, datetime(2026, 11, 25, 1, 0, tzinfo=UTC))
    assert not hours.open_at(settings, datetime(2026, 11, 25, 0, 59, tzinfo=UTC))
    assert not hours.open_at(settings, datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    assert hours.describe(settings, "zh-CN") == "周一到周五九点到十八点，周六到周日十点到十六点"
    assert hours.describe(settings, "en") == (
        "Monday to Friday, nine a.m. to six p.m.; Saturday to Sunday, ten a.m. to four p.m."
    )
