"""What the intent classifier looks at in a normalised message.

Two views of the same text, because each covers the other's blind spot:

* **Character 1–4-grams** (within word boundaries). Chinese words need no segmenter here,
  and a typo or homophone (冲值 for 充值, 到帐) still shares most of its n-grams with the
  right spelling; English misspellings ("pasword", "refnd") likewise.
* **Words and word pairs** from the rjieba segmenter (Chinese) and a plain split (English),
  so that whole words and their order (没到账, "not received") weigh more than fragments.

Digits become ``#``: the amount or date in "充值500元没到账" says nothing about the intent,
and the model should not learn that 500 means recharge.
"""

from __future__ import annotations

import itertools
import re

import rjieba

from kefu.bot.nlu.normalise import HAN

_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_PIECE = re.compile(rf"[{HAN}]+|[a-z]+(?:'[a-z]+)?|#")
_HAN_RUN = re.compile(rf"[{HAN}]+")


def mask_digits(normalised: str) -> str:
    return _DIGITS.sub("#", normalised)


def _english_word(word: str) -> str:
    """A light stemmer: plural and -ed/-ing forms share a feature with the base word."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def words(masked: str) -> list[str]:
    """Word unigrams and adjacent pairs of a normalised, digit-masked message."""
    tokens: list[str] = []
    for piece in _PIECE.findall(masked):
        if _HAN_RUN.fullmatch(piece):
            tokens.extend(rjieba.cut(piece))
        else:
            tokens.append(_english_word(piece))
    pairs = [f"{first} {second}" for first, second in itertools.pairwise(tokens)]
    return tokens + pairs
