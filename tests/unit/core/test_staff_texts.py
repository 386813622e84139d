"""How the catalogue's texts speak to staff: the console has one name wherever a text names
it (pages, the invitation and password mails, a case's channel), the one its top bar shows;
and staff are addressed as 您, as customers are and as most console texts already did."""

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


# Texts customers read or hear. They keep 您 too, but may carry a customer's own words
# (是不是你们…) outside quotation marks; every other text is a staff text.
CUSTOMER_FACING = (
    "bot.",
    "help.",
    "chat.widget.",
    "chat.system.",
    "chat.canned.",
    "chat.page.",
    "quality.survey.",
    "support.told.",
    "summary.",
    "otp.",
    "email.",
    "sms.",
    "wechat.",
    "security.",
    "antifraud.advice.",
    "antifraud.warning.",
)
# Words quoted (a customer's question, a status name) are not how the text addresses its reader.
QUOTED = re.compile(r"“[^”]*”|‘[^’]*’|「[^」]*」|\"[^\"]*\"")


def staff_texts() -> dict[str, str]:
    return {
        key: text for key, text in catalogue("zh-CN").items() if not key.startswith(CUSTOMER_FACING)
    }


def test_staff_texts_address_the_reader_as_nin() -> None:
    informal = {key: text for key, text in staff_texts().items() if "你" in QUOTED.sub("", text)}
    assert informal == {}


def test_quoted_words_and_customer_texts_are_outside_the_rule() -> None:
    texts = staff_texts()
    assert "antifraud.web.calls.intro" in texts and "你们" in texts["antifraud.web.calls.intro"]
    assert "chat.error.at_capacity" in texts and "home.work.not_online" in texts
    assert not {"bot.greeting", "help.home.greeting", "chat.widget.queue"} & set(texts)
