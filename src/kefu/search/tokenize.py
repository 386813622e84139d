"""Turning Chinese and English text into the tokens the search index stores.

Chinese has no spaces, so whitespace tokenising finds nothing, and a word segmenter alone
is brittle: jieba cuts 充值没到账 as 充值/没到/账, so a search for 到账 would miss it.
Every run of Han characters is therefore indexed as overlapping character bigrams, which
find any two-character word wherever the segmenter put its boundaries, plus jieba's words
of three or more characters, which reward whole-word matches. Latin text becomes
lower-cased words with plurals folded, and numbers and references (KF-2611-7Q4M-X, 100.50,
card last-4) stay searchable. Text is normalised first: full-width forms to half-width
(NFKC), lower case, and traditional to simplified Chinese, so 提現 finds 提现.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import opencc
import rjieba

from kefu.errors import InvalidInput

TOKEN_LENGTH = 64
MAX_QUERY_CHARS = 200
MAX_QUERY_TOKENS = 32

_HAN = (
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\U00020000-\U0002a6df\U0002a700-\U0002ebef\U00030000-\U0003134f"
)
_PIECE = re.compile(rf"(?P<han>[{_HAN}]+)|(?P<latin>[a-z0-9]+(?:[._\-/:@+#][a-z0-9]+)*)")
_DECIMAL = re.compile(r"\d+\.\d+")
_SEPARATOR = re.compile(r"[^a-z0-9]+")

# Characters that OpenCC leaves as one of two simplified forms that people use
# interchangeably; folding them on both sides lets 帳戶 (→ 帐户) find 账户.
_VARIANTS = str.maketrans({"帐": "账"})

_ENGLISH_STOPWORD_TEXT = """
a an and are as at be been but by can could did do does for from had has have i if in is it
its me my no not of on or our please so that the their them then there this to was we were
what when where which will with would you your
"""
_ENGLISH_STOPWORDS = frozenset(_ENGLISH_STOPWORD_TEXT.split())
_NO_PLURAL_ENDINGS = ("ss", "us", "is", "os", "as")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def normalize(text: str) -> str:
    """Full-width to half-width, lower case, traditional to simplified Chinese."""
    folded = unicodedata.normalize("NFKC", text).lower()
    simplified: str = _t2s().convert(folded)
    return simplified.translate(_VARIANTS)


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(_NO_PLURAL_ENDINGS):
        return word[:-1]
    return word


def _canonical_number(text: str) -> str:
    """``100.50`` and ``100.5`` are the same amount; ``100.00`` is ``100``."""
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0")
    return f"{whole}.{fraction}" if fraction else whole


def _latin_terms(piece: str) -> Iterator[str]:
    if _DECIMAL.fullmatch(piece):
        yield _canonical_number(piece)
        whole = piece.partition(".")[0]
        if whole != _canonical_number(piece):
            yield whole
        return
    parts = [part for part in _SEPARATOR.split(piece) if part]
    for part in parts:
        if part.isalpha():
            if len(part) < 2 or part in _ENGLISH_STOPWORDS:
                continue
            yield _singular(part)
        else:
            yield part
    if len(parts) > 1 and any(char.isdigit() for char in piece):
        yield "-".join(parts)


def _han_terms(run: str) -> Iterator[str]:
    if len(run) == 1:
        yield run
        return
    for start in range(len(run) - 1):
        yield run[start : start + 2]
    for word in rjieba.cut(run):
        if len(word) >= 3:
            yield word


def _terms(normalized: str) -> Iterator[tuple[str, bool]]:
    for match in _PIECE.finditer(normalized):
        han = match.group("han")
        if han is not None:
            for term in _han_terms(han):
                yield term[:TOKEN_LENGTH], True
        else:
            for term in _latin_terms(match.group("latin")):
                yield term[:TOKEN_LENGTH], False


def tokenize(text: str) -> list[str]:
    """Index tokens of ``text`` in order, repeats kept (their count is the term frequency)."""
    return [term for term, _ in _terms(normalize(text))]


@dataclass(frozen=True)
class QueryPlan:
    """Which tokens a document must hold to match a query.

    Words, numbers and references are all required. Chinese bigrams are not: a query such
    as 充值没到账 should still find 充值一直没有到账, so a document needs half of them
    (all of them when there are only one or two).
    """

    tokens: tuple[str, ...]
    required: frozenset[str]
    han_minimum: int

    @property
    def min_match(self) -> int:
        return len(self.required) + self.han_minimum


def plan_query(query: str) -> QueryPlan:
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInput("query too long", field="q", max_length=MAX_QUERY_CHARS)
    seen: dict[str, bool] = {}
    for term, is_han in _terms(normalize(query)):
        if term not in seen:
            seen[term] = is_han
        if len(seen) == MAX_QUERY_TOKENS:
            break
    han = sum(1 for is_han in seen.values() if is_han)
    han_minimum = han if han <= 2 else max(2, math.ceil(han / 2))
    return QueryPlan(
        tokens=tuple(seen),
        required=frozenset(term for term, is_han in seen.items() if not is_han),
        han_minimum=han_minimum,
    )
