"""How the catalogue's texts speak to staff: the console has one name wherever a text names
it (pages, the invitation and password mails, a case's channel), the one its top bar shows."""

from __future__ import annotations

import re

from kefu.i18n import Lang, catalogue

# console.brand is "Kefu 坐席工作台" / "Kefu agent console"; a text may name the console
# without "Kefu", never by another word (客服工作台, 工作台 alone, "Kefu console").
CONSOLE_NAME: dict[Lang, str] = {"zh-CN": "坐席工作台", "en": "agent console"}
CONSOLE_WORD: dict[Lang, str] = {"zh-CN": "工作台", "en": "console"}


def test_the_brand_holds_the_consoles_name() -> None:
    for lang in CONSOLE_NAME:
        assert catalogue(lang)["console.brand"] == f"Kefu {CONSOLE_NAME[lang]}"


def test_every_text_naming_the_console_names_it_by_its_name() -> None:
    misnamed = [
        (lang, key, text)
        for lang, name in CONSOLE_NAME.items()
        for key, text in catalogue(lang).items()
        # every occurrence of the word must be the tail of the name
        if CONSOLE_WORD[lang] in re.sub(re.escape(name), "", text, flags=re.IGNORECASE).lower()
    ]
    assert misnamed == []
