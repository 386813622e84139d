"""The training phrasings, shipped as package data: ``bot/data/intents/<intent>.<lang>.txt``,
one phrasing a line; blank lines and lines starting with ``//`` are ignored.

The held-out evaluation set (tests/fixtures/nlu_holdout.tsv) is deliberately not here: it
is never trained on.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from kefu.bot.nlu.intents import INTENTS
from kefu.errors import ConfigError

LANGUAGES = ("zh", "en")


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    lang: str  # "zh" or "en": which file it came from


@lru_cache(maxsize=1)
def load_examples() -> tuple[Example, ...]:
    folder = resources.files("kefu.bot").joinpath("data", "intents")
    examples: list[Example] = []
    for intent in INTENTS:
        for lang in LANGUAGES:
            source = folder.joinpath(f"{intent}.{lang}.txt")
            if not source.is_file():
                raise ConfigError(f"missing training data for intent {intent} ({lang})")
            for line in source.read_text(encoding="utf-8").splitlines():
                text = line.strip()
                if text and not text.startswith("//"):
                    examples.append(Example(text=text, intent=intent, lang=lang))
    return tuple(examples)
