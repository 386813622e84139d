"""Names made to look like ours: ``kefu-wallet.com.cn.example.net``, ``kefu-wa11et.com.cn``,
``kеfu-wallet.com.cn`` with a Cyrillic е, ``kefuwallet-refund.com``, ``kefu-walet.com.cn``.

The comparison is on *skeletons* in the sense of Unicode TR39: each character is replaced by
the ASCII letter or digit it can be mistaken for, from the confusables data that
``confusable_homoglyphs`` ships (Unicode's confusables.txt), so ``1``/``l``/``I`` and
``0``/``o`` and ``rn``/``m`` fall together. Edit distance (``rapidfuzz``) catches one or two
letters dropped, doubled or swapped.

The confusables data (~7 MB once read) is loaded by the first name compared, not when the
module is imported: every web process imports it, few compare names.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from rapidfuzz.distance import DamerauLevenshtein

from kefu.antifraud.values import suffix_list

How = Literal["embedded", "homoglyph", "same_name", "contains_name", "typo"]
# Names shorter than this are words anyone may use ("kefu", "pay"): only an exact skeleton
# match counts for them, never containment or a near miss.
MIN_DISTINCTIVE = 6


@dataclass(frozen=True)
class Imitation:
    of: str  # the official value imitated, as shown to people
    how: How


def _ascii_alnum(text: str) -> bool:
    return text.isascii() and text.isalnum()


def _confusables() -> dict[str, list[dict[str, str]]]:
    from confusable_homoglyphs import confusables

    data: dict[str, list[dict[str, str]]] = confusables.confusables_data
    return data


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, str], dict[str, str]]:
    """(ASCII character → class representative, ASCII character → longer look-alike).

    Confusable ASCII pairs (``1``~``l``, ``0``~``o``) are joined into classes with a
    union-find, so the mapping is the same whichever member a name uses.
    """
    data = _confusables()
    parent: dict[str, str] = {}

    def find(ch: str) -> str:
        while parent.setdefault(ch, ch) != ch:
            ch = parent[ch]
        return ch

    longer: dict[str, str] = {}
    for ch in "abcdefghijklmnopqrstuvwxyz0123456789":
        for glyph in data.get(ch, []):
            other = glyph["c"].lower()
            if not _ascii_alnum(other):
                continue
            if len(other) == 1:
                a, b = find(ch), find(other)
                if a != b:
                    parent[max(a, b, key=_rank)] = min(a, b, key=_rank)
            elif len(other) > len(longer.get(ch, "")):
                longer[ch] = other
    classes = {ch: find(ch) for ch in parent}
    return classes, longer


def _rank(ch: str) -> tuple[bool, str]:
    return (ch.isdigit(), ch)


@lru_cache(maxsize=65536)
def _char_skeleton(ch: str) -> str:
    classes, longer = _tables()
    if ch.isascii():
        lowered = ch.lower()
        if lowered in longer:
            return "".join(classes.get(c, c) for c in longer[lowered])
        return classes.get(lowered, lowered)
    for glyph in _confusables().get(ch, []):
        other = glyph["c"].lower()
        if _ascii_alnum(other):
            return "".join(_char_skeleton(c) for c in other)
    stripped = "".join(
        c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
    ).lower()
    if stripped and _ascii_alnum(stripped):
        return "".join(_char_skeleton(c) for c in stripped)
    return ch.lower()


def skeleton(text: str, *, keep: str = "") -> str:
    """The look-alike form of ``text``; characters in ``keep`` stay, other punctuation
    (hyphens, underscores, dots) is dropped, since ``kefu-wallet`` and ``kefuwallet`` read
    alike."""
    out = []
    for ch in unicodedata.normalize("NFKC", text):
        if ch in keep:
            out.append(ch)
        elif ch.isalnum():
            out.append(_char_skeleton(ch))
    return "".join(out)


def _split(host: str) -> tuple[str, str]:
    """(name part, public suffix) of a registrable domain: ``kefu-wallet``, ``com.cn``."""
    suffix = suffix_list().publicsuffix(host) or ""
    registrable = suffix_list().privatesuffix(host) or host
    name = registrable[: -len(suffix) - 1] if suffix and registrable != suffix else registrable
    return name, suffix


def _near(a: str, b: str) -> bool:
    allowed = 1 if len(b) < 10 else 2
    return abs(len(a) - len(b)) <= allowed and DamerauLevenshtein.distance(a, b) <= allowed


def domain_imitation(unicode_host: str, officials: Iterable[str]) -> Imitation | None:
    """Which official domain ``unicode_host`` imitates, if any. ``officials`` are the
    registry's domains (ASCII); the host must already be known not to be one of them."""
    host = unicode_host.lower().rstrip(".")
    labels = host.split(".")
    host_skeleton = "." + ".".join(skeleton(label, keep="-") for label in labels) + "."
    name, _suffix = _split(host)
    name_skeleton = skeleton(name)
    label_skeletons = [skeleton(label) for label in labels]
    for official in officials:
        official_unicode = _display(official)
        official_name, _ = _split(official)
        brand = skeleton(official_name)
        dotted = "." + ".".join(skeleton(x, keep="-") for x in official.split(".")) + "."
        if dotted in host_skeleton:
            # at the end it is our whole address in look-alike letters, else a disguise
            whole = host_skeleton.endswith(dotted)
            return Imitation(official_unicode, "homoglyph" if whole else "embedded")
        if not brand:
            continue
        if name_skeleton == brand:
            plain = name.replace("-", "") == official_name.replace("-", "")
            return Imitation(official_unicode, "same_name" if plain else "homoglyph")
        if len(brand) >= MIN_DISTINCTIVE and any(brand in label for label in label_skeletons):
            return Imitation(official_unicode, "contains_name")
        if len(brand) >= MIN_DISTINCTIVE and _near(name_skeleton, brand):
            return Imitation(official_unicode, "typo")
    return None


def account_imitation(name: str, officials: Iterable[tuple[str, str]]) -> Imitation | None:
    """Which official account (key, display) the account ``name`` imitates, if any."""
    mine = skeleton(name)
    if not mine:
        return None
    for key, display in officials:
        theirs = skeleton(key)
        if not theirs:
            continue
        if mine == theirs:
            return Imitation(display, "homoglyph")
        if len(theirs) >= MIN_DISTINCTIVE and (theirs in mine or _near(mine, theirs)):
            return Imitation(display, "contains_name" if theirs in mine else "typo")
    return None


def _display(ascii_host: str) -> str:
    import idna

    try:
        return str(idna.decode(ascii_host))
    except idna.IDNAError:
        return ascii_host
