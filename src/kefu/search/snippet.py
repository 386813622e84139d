"""Short excerpts around the first match, and masking of what must never be stored."""

from __future__ import annotations

import re
import unicodedata

from kefu.masking import mask_card
from kefu.search.tokenize import normalize

SNIPPET_CHARS = 80
_LEAD_CHARS = 20
_ELLIPSIS = "…"
_CARD_NUMBER = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")
_SPACES = re.compile(r"\s+")


def mask_card_numbers(text: str) -> str:
    """Replace anything shaped like a full card number by its masked last four digits.

    Owners index free text that customers typed; a pasted card number must end up neither
    in the stored body, nor in a token, nor in a snippet.
    """

    def _mask(match: re.Match[str]) -> str:
        digits = [str(unicodedata.digit(char)) for char in match.group() if char.isdigit()]
        return mask_card("".join(digits[-4:]))

    return _CARD_NUMBER.sub(_mask, text)


def _normalized_with_offsets(text: str) -> tuple[str, list[int]]:
    """The normalised text and, for each of its characters, the index in ``text``.

    Normalising the whole text keeps phrase-level conversions; only when that changes the
    length (NFKC expands ㎏ to kg) is the slower per-character mapping needed.
    """
    whole = normalize(text)
    if len(whole) == len(text):
        return whole, list(range(len(text)))
    pieces: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(text):
        folded = normalize(char)
        pieces.append(folded)
        offsets.extend([index] * len(folded))
    return "".join(pieces), offsets


def make_snippet(text: str, tokens: tuple[str, ...]) -> str:
    normalized, offsets = _normalized_with_offsets(text)
    found = [position for token in tokens if (position := normalized.find(token)) >= 0]
    start = max(0, offsets[min(found)] - _LEAD_CHARS) if found else 0
    end = start + SNIPPET_CHARS
    excerpt = _SPACES.sub(" ", text[start:end]).strip()
    prefix = _ELLIPSIS if start > 0 else ""
    suffix = _ELLIPSIS if end < len(text) else ""
    return f"{prefix}{excerpt}{suffix}"


def highlight(text: str, tokens: tuple[str, ...]) -> list[tuple[str, bool]]:
    """``text`` cut into pieces, each marked True where it matches one of ``tokens``
    (found in the normalised text, so 充值 marks 充値 and ＡＢＣ marks abc)."""
    if not text:
        return []
    normalized, offsets = _normalized_with_offsets(text)
    marked = [False] * len(text)
    for token in tokens:
        start = normalized.find(token)
        while start >= 0 and token:
            end = start + len(token)
            for position in range(offsets[start], offsets[end - 1] + 1):
                marked[position] = True
            start = normalized.find(token, end)
    pieces: list[tuple[str, bool]] = []
    for char, hit in zip(text, marked, strict=True):
        if pieces and pieces[-1][1] == hit:
            pieces[-1] = (pieces[-1][0] + char, hit)
        else:
            pieces.append((char, hit))
    return pieces
