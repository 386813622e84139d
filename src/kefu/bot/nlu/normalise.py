"""One canonical form of a customer's message, made before anything reads it.

Customers type on phones in any input method: full-width digits and punctuation, traditional
characters (Hong Kong, Taiwan, overseas users), and amounts or dates in Chinese numerals
(五百块, 三月五号). Everything downstream — the classifier's n-grams, entity extraction —
sees the same text for all of those. The traditional→simplified step uses OpenCC, the same
library the search index uses, so the bot and search agree on what a word is.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Literal

import cn2an
import opencc

Language = Literal["zh-CN", "en"]

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_CHAR = re.compile(f"[{HAN}]")
_LATIN_WORD = re.compile(r"[a-z]+", re.IGNORECASE)
_SPACES = re.compile(r"\s+")

# A run of Chinese numeral characters that starts with a digit (or 十): 千万 ("by all
# means") and 万一 ("in case") are words, not numbers, and never start that way.
_NUMERAL_RUN = re.compile("[零〇一二两三四五六七八九十][零〇一二两三四五六七八九十百千万亿]*")
_MULTIPLIERS = frozenset("十百千万亿")
# A single numeral character is a number only before a unit: 五百块 and 三月 are amounts
# and dates, while 一直, 一下, 一起 are words.
_UNIT_AFTER_DIGIT = frozenset("元块圆月号日时点岁笔")
# A trailing 一 in ordinary words (统一, 唯一, 万一) is not a number.
_WORD_BEFORE = frozenset("统唯万第")

# OpenCC folds 帳 to 帐, while mainland users write both 帐户 and 账户 (and 到帐); the search
# index folds the same pair, so 帐 is read as 账 everywhere.
_VARIANTS = str.maketrans({"帐": "账"})


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _numeral(match: re.Match[str]) -> str:
    run = match.group(0)
    text = match.string
    before = text[match.start() - 1] if match.start() > 0 else ""
    after = text[match.end()] if match.end() < len(text) else ""
    if before in _WORD_BEFORE:
        return run
    has_multiplier = any(char in _MULTIPLIERS for char in run)
    if len(run) == 1:
        if after not in _UNIT_AFTER_DIGIT:
            return run
        # 快一点 / 一点点 ("a bit") against 一点钟 / 一点半 (one o'clock).
        if (
            run == "一"
            and after == "点"
            and text[match.end() + 1 : match.end() + 2] not in {"钟", "半"}
        ):
            return run
    elif not has_multiplier and len(run) < 3:
        # 两三天, 一两个: ranges, which cn2an would read as 23 and 12.
        return run
    if run == "十" and after == "分":
        return run  # 十分 is "very"
    try:
        return str(cn2an.cn2an(run, "smart"))
    except ValueError:
        return run


def numerals_to_digits(text: str) -> str:
    """五百块 → 500块, 三月五号 → 3月5号, 二零二四年 → 2024年; words like 一直 stay."""
    return _NUMERAL_RUN.sub(_numeral, text)


def normalise(text: str) -> str:
    """Full-width to half-width (NFKC), lower case, traditional to simplified, 帐 → 账,
    Chinese numerals to digits, runs of white space to one space."""
    folded = unicodedata.normalize("NFKC", text).lower()
    simplified: str = _t2s().convert(folded)
    simplified = simplified.translate(_VARIANTS)
    return _SPACES.sub(" ", numerals_to_digits(simplified)).strip()


def detect_language(text: str) -> Language:
    """Chinese when Han characters are at least as many as Latin words.

    "app闪退了" and "我的account被锁了" are Chinese messages with English words in them;
    "my 账户 is locked" is English. With neither (digits, emoji), Chinese, the service's
    first language.
    """
    han = len(_HAN_CHAR.findall(text))
    words = len(_LATIN_WORD.findall(text))
    if words == 0 or han >= words:
        return "zh-CN"
    return "en"
