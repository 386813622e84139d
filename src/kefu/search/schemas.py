"""What other domains hand to the search service and get back from it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SearchText:
    """One owner's document to (re)index; ``ref`` is the owner's id or reference string."""

    kind: str
    ref: str
    title: str
    body: str
    lang: str = "zh-CN"


@dataclass(frozen=True)
class SearchHit:
    """``snippet`` is plain text (escape it when rendering) with card numbers masked."""

    ref: str
    score: float
    title: str
    snippet: str
