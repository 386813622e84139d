"""Which intent a message carries, with a calibrated confidence and the runners-up."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from kefu.bot.nlu.intents import OUT_OF_SCOPE
from kefu.bot.nlu.model import get_model

# The key fact of a long story is usually stated early; past this, text only slows the
# classifier and a pasted log or attack payload must not.
MAX_CHARS = 1000
ALTERNATIVES = 3
_MEANINGFUL = re.compile(r"[^\W_]")


@dataclass(frozen=True)
class Classification:
    intent: str
    confidence: float
    alternatives: list[tuple[str, float]] = field(default_factory=list)


def clean(text: str) -> str:
    """Capped in length, with control characters (binary junk) replaced by spaces."""
    capped = text[:MAX_CHARS]
    return "".join(
        " " if unicodedata.category(char) in {"Cc", "Cs", "Co", "Cn"} else char for char in capped
    )


def _meaningless(cleaned: str) -> bool:
    """Nothing a person could mean: empty, punctuation, emoji or symbols only."""
    return _MEANINGFUL.search(cleaned) is None


def classify_many(texts: Sequence[str]) -> list[Classification]:
    """Classify a batch at once (one matrix product for all of them)."""
    cleaned = [clean(text) for text in texts]
    results: list[Classification | None] = [
        Classification(OUT_OF_SCOPE, 0.0) if _meaningless(text) else None for text in cleaned
    ]
    rows = [position for position, result in enumerate(results) if result is None]
    if rows:
        model = get_model()
        intents = model.intents
        messages = [cleaned[row] for row in rows]
        probabilities = (
            model.probability(messages[0])[np.newaxis, :]
            if len(messages) == 1
            else model.probabilities(messages)
        )
        for row, scores in zip(rows, probabilities, strict=True):
            ranked = scores.argsort()[::-1][: ALTERNATIVES + 1]
            best = int(ranked[0])
            results[row] = Classification(
                intent=intents[best],
                confidence=round(float(scores[best]), 4),
                alternatives=[
                    (intents[int(other)], round(float(scores[int(other)]), 4))
                    for other in ranked[1:]
                ],
            )
    return [result for result in results if result is not None]


def classify(text: str) -> Classification:
    """The intent of one message. Junk (empty, emoji-only, control characters) is
    ``out_of_scope`` with confidence 0; it never raises."""
    return classify_many([text])[0]
