"""The shipped FAQ covers every intent of the catalogue, in both languages."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import pytest

from kefu.bot.nlu.intents import INTENTS

INTENTS_MD = Path("/work/shared/intents.md")
_ROW = re.compile(r"^\|\s*([a-z_]+)\s*\|")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_DIGITS = re.compile(r"\d{5,}")


def _intent_ids() -> list[str]:
    lines = INTENTS_MD.read_text(encoding="utf-8").splitlines()
    return [m.group(1) for line in lines if (m := _ROW.match(line)) and m.group(1) != "id"]


def _articles() -> dict[str, dict]:
    folder = resources.files("kefu.kb").joinpath("articles")
    return {
        entry.name.removesuffix(".json"): json.loads(entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    }


def test_every_intent_has_exactly_one_article() -> None:
    assert sorted(_articles()) == sorted(INTENTS)


@pytest.mark.skipif(not INTENTS_MD.exists(), reason="the shared intents.md is outside the repo")
def test_articles_follow_the_catalogue_in_intents_md() -> None:
    ids = _intent_ids()
    assert len(ids) >= 30
    assert sorted(_articles()) == sorted(ids)


@pytest.mark.parametrize("intent", INTENTS)
def test_article_has_both_languages(intent: str) -> None:
    article = _articles()[intent]
    assert article["intent"] == intent
    zh, en = article["zh-CN"], article["en"]
    for text in (zh["title"], zh["body"], en["title"], en["body"]):
        assert text.strip()
    assert len(_HAN.findall(zh["title"] + zh["body"])) > 20
    assert not _HAN.search(en["title"] + en["body"])
    for text in (zh["body"], en["body"]):
        assert not _DIGITS.search(text), "no hotline numbers in articles: see Contact us"
    assert "联系我们" in zh["body"]
    assert "Contact us" in en["body"]
