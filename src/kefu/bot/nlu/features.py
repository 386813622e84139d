"""What the intent classifier looks at in a normalised message, and how it is weighted.

Three views of the same text, because each covers the others' blind spots:

* **Character 1–4-grams** (within word boundaries). Chinese words need no segmenter here,
  and a typo (冲值 for 充值) still shares most of its n-grams with the right spelling;
  English misspellings ("pasword", "refnd") likewise.
* **Words and word pairs** from the rjieba segmenter (Chinese) and a plain split (English),
  so that whole words and their order (没到账, "not received") weigh more than fragments.
* **Sounds**: Chinese written as toneless pinyin syllables, with each pair of neighbouring
  syllables also run together. Homophone typos (登陆 for 登录, 帐户/账户) then read the same,
  and so does a customer typing pinyin: "zhuan ren gong" and "chongzhi mei daozhang" share
  features with 转人工 and 充值没到账. Latin words take part as they are, so "top up" and
  "topup" meet too.

Digits become ``#``: the amount or date in "充值500元没到账" says nothing about the intent,
and the model should not learn that 500 means recharge.

Each view is weighted TF-IDF (sublinear term frequency, smoothed inverse document
frequency) and scaled to unit length on its own, so a long message does not drown the
views of a short one. The length also counts the message's features that no training
phrasing has: they score nothing, but a message made mostly of them ("怎么做红烧肉", where
only 怎么 is familiar) should not rest its whole weight on the one familiar word.

Training weighs a count matrix (``Counts``) once per fold; a live message costs one hash
per feature, a binary search per view and a few array operations (``Vectorizer``); a test
holds the two to the same numbers.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import rjieba
from xpinyin import Pinyin

from kefu.bot.nlu.normalise import HAN

if TYPE_CHECKING:  # sparse matrices are for training only: a served process never loads scipy
    from scipy.sparse import csr_matrix

_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_PIECE = re.compile(rf"[{HAN}]+|[a-z]+(?:'[a-z]+)?|#")
_HAN_RUN = re.compile(rf"[{HAN}]+")
_SPACE = re.compile(r"\s+")
CHAR_NGRAMS = (1, 4)

Vector = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]
# between the names of a view's vocabulary; features come from normalised text, which
# holds no NUL
SEPARATOR = "\x00"
# the column of a key two features share: the look-up compares their names instead
SHARED = -2
# odd (2^64 over the golden ratio): multiplying by it maps different integers apart
_MIX = np.int64(0x9E3779B97F4A7C15 - (1 << 64))


def _keys(
    names: Sequence[str], views: npt.NDArray[np.int64], view_count: int
) -> npt.NDArray[np.int64]:
    """A 64-bit key per (view, name): the name's str hash mixed with its length and view.
    Python hashes a str's internal buffer, so 来 (one 2-byte character, 65 67) and "eg" (two
    1-byte ones, 65 67) hash alike; equal buffers of equal length are equal strings, so with
    the length mixed in, two features share a key only by chance (1 in 2^64 a pair)."""
    count = len(names)
    hashes = np.fromiter(map(hash, names), dtype=np.int64, count=count)
    lengths = np.fromiter(map(len, names), dtype=np.int64, count=count)
    keys: npt.NDArray[np.int64] = hashes ^ ((lengths * view_count + views) * _MIX)
    return keys


def mask_digits(normalised: str) -> str:
    return _DIGITS.sub("#", normalised)


def _english_word(word: str) -> str:
    """A light stemmer: plural and -ed/-ing forms share a feature with the base word."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=50_000)
def _segment(han: str) -> tuple[str, ...]:
    return tuple(rjieba.cut(han))


@lru_cache(maxsize=1)
def _pinyin() -> Pinyin:
    return Pinyin()


@lru_cache(maxsize=50_000)
def _sound(word: str) -> tuple[str, ...]:
    """Toneless pinyin of one segmented word, each character by its most common reading (a
    polyphone read the same way in training and in use is all the model needs; ü is v)."""
    return tuple(_pinyin().get_pinyin(word, " ").split())


def chars(masked: str) -> list[str]:
    """Character n-grams of each space-separated word, padded with a space on both sides."""
    grams: list[str] = []
    low, high = CHAR_NGRAMS
    for word in _SPACE.split(masked):
        if not word:
            continue
        padded = f" {word} "
        length = len(padded)
        for size in range(low, high + 1):
            grams.extend(padded[start : start + size] for start in range(length - size + 1))
    return grams


def _pairs(tokens: Sequence[str], joiner: str) -> list[str]:
    return [f"{first}{joiner}{second}" for first, second in itertools.pairwise(tokens)]


def words(masked: str) -> list[str]:
    """Word unigrams and adjacent pairs of a normalised, digit-masked message."""
    tokens: list[str] = []
    for piece in _PIECE.findall(masked):
        if _HAN_RUN.fullmatch(piece):
            tokens.extend(_segment(piece))
        else:
            tokens.append(_english_word(piece))
    return tokens + _pairs(tokens, " ")


def sounds(masked: str) -> list[str]:
    """Pinyin syllables of the Chinese, Latin words as typed, and each neighbouring pair
    run together ("chong" + "zhi" → "chongzhi")."""
    syllables: list[str] = []
    for piece in _PIECE.findall(masked):
        if piece == "#":
            continue
        if _HAN_RUN.fullmatch(piece):
            for word in _segment(piece):
                syllables.extend(_sound(word))
        else:
            syllables.append(piece)
    return syllables + _pairs(syllables, "")


VIEWS = (chars, words, sounds)


def analyse(prepared: str) -> list[Counter[str]]:
    """Each view's features of one prepared message, with their counts."""
    return [Counter(view(prepared)) for view in VIEWS]


def unseen_idf(idf: npt.NDArray[np.float64]) -> float:
    """The IDF given to a feature none of the training rows has: that of a feature rarer
    than the rarest one seen (the largest IDF, a feature in one row when there is one,
    log((1 + n) / 2) + 1, plus log 2: what the smoothed formula gives for no row at all)."""
    return float(idf.max()) + float(np.log(2.0))


@dataclass(frozen=True)
class Vocabulary:
    """Feature name → column, for every view, without a Python object per name.

    As dicts, the 134,000 names of the three views held ~17 MB of a served process (a str,
    an int and a table slot each). Here each view's names are one UTF-8 string, in the
    order training met them (the order the model is stored and fingerprinted in), and a
    message's features are looked up together, by a binary search among the names' keys
    (``_keys``). Python's str hash is seeded per process, so the keys are computed when the
    vocabulary is made and never stored; a feature no training phrasing has matches one
    that some has only if their 64-bit keys collide. Two features of the vocabulary that
    share a key (about one start in 10^9 for 134,000 names) are told apart by name.
    """

    names: tuple[bytes, ...]  # each view's names joined by SEPARATOR, UTF-8
    columns: tuple[npt.NDArray[np.int64], ...]  # each view's names' columns, in that order
    keys: npt.NDArray[np.int64]  # every (view, name)'s key, sorted, each once
    keyed_columns: npt.NDArray[np.int64]  # the column of each of ``keys``; SHARED: see below
    # the features whose key another one shares, by (view, name): almost always empty
    shared: dict[tuple[int, str], int]

    @classmethod
    def of(cls, names: Sequence[bytes], columns: Sequence[npt.NDArray[np.int64]]) -> Vocabulary:
        """The vocabulary of each view's ``names`` (joined by SEPARATOR) with their
        ``columns``; ValueError when the two do not match."""
        split: list[str] = []
        views: list[int] = []
        for view, (joined, view_columns) in enumerate(zip(names, columns, strict=True)):
            view_names = joined.decode().split(SEPARATOR) if joined else []
            if len(view_names) != len(view_columns):
                raise ValueError(f"{len(view_names)} feature names for {len(view_columns)}")
            split.extend(view_names)
            views.extend(itertools.repeat(view, len(view_names)))
        keys = _keys(split, np.asarray(views, dtype=np.int64), len(names))
        order = np.argsort(keys)
        keys = keys[order]
        every_column = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64)
        keyed_columns = every_column[order]
        shared: dict[tuple[int, str], int] = {}
        repeated = keys[1:] == keys[:-1]
        if np.any(repeated):
            clashing = np.isin(keys, keys[1:][repeated])
            for at in np.flatnonzero(clashing):
                index = int(order[at])
                shared[(views[index], split[index])] = int(keyed_columns[at])
            keep = np.concatenate(([True], ~repeated))
            keyed_columns[clashing] = SHARED
            keys, keyed_columns = keys[keep], keyed_columns[keep]
        del split  # 134,000 str objects go back to the allocator at once
        return cls(tuple(names), tuple(columns), keys, keyed_columns, shared)

    @property
    def views(self) -> int:
        return len(self.names)

    def find(self, names: Sequence[str], views: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The column of each feature (``names[i]`` of view ``views[i]``), -1 for a feature
        the vocabulary lacks."""
        wanted = _keys(names, views, self.views)
        at = np.minimum(np.searchsorted(self.keys, wanted), len(self.keys) - 1)
        found: npt.NDArray[np.int64] = np.where(self.keys[at] == wanted, self.keyed_columns[at], -1)
        if self.shared:
            for index in np.flatnonzero(found == SHARED).tolist():
                found[index] = self.shared.get((int(views[index]), names[index]), -1)
        return found


@dataclass(frozen=True)
class Vectorizer:
    """Feature name → column (for every view) and each column's inverse document frequency.
    Reading messages is a hash per feature and a handful of array operations for the
    look-up and the weighting."""

    vocabulary: Vocabulary
    idf: npt.NDArray[np.float64]
    unseen: float  # the IDF a feature no training phrasing has would get

    @property
    def size(self) -> int:
        return len(self.idf)

    def vector(self, prepared: str) -> Vector:
        """The weighted feature vector of one prepared message: (columns, weights)."""
        columns, weights, _ = self.weigh([prepared])
        return columns, weights

    def weigh(
        self, prepared: Sequence[str]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """The weighted features of many prepared messages: the known features' columns,
        their weights, and the message (row) each belongs to. Every feature is hashed in
        Python, then all are looked up and weighed in a few array operations."""
        names: list[str] = []
        counts: list[int] = []
        groups: list[int] = []  # message × view, for the per-view unit length
        views = self.vocabulary.views
        for row, text in enumerate(prepared):
            for view, view_counts in enumerate(analyse(text)):
                names.extend(view_counts)
                counts.extend(view_counts.values())
                groups.extend(itertools.repeat(row * views + view, len(view_counts)))
        group = np.asarray(groups, dtype=np.int64)
        columns = self.vocabulary.find(names, group % views)
        known = columns >= 0
        idf = np.where(known, self.idf[np.where(known, columns, 0)], self.unseen)
        weights = (1.0 + np.log(np.asarray(counts, dtype=np.float64))) * idf
        norms = np.sqrt(
            np.bincount(group, weights=weights * weights, minlength=len(prepared) * views)
        )
        return columns[known], (weights / norms[group])[known], group[known] // views


@dataclass(frozen=True)
class Counts:
    """Raw feature counts of a list of prepared messages over their shared vocabulary.

    Training weighs the same counts many times (once per cross-validation fold, with the
    vocabulary and document frequencies of that fold's training rows), so each message is
    analysed once."""

    matrix: csr_matrix  # (messages, features), raw counts
    view_of_column: npt.NDArray[np.int64]
    columns: tuple[dict[str, int], ...]

    @classmethod
    def of(cls, prepared: Sequence[str]) -> Counts:
        columns: list[dict[str, int]] = [{} for _ in VIEWS]
        views: list[int] = []
        indptr = [0]
        indices: list[int] = []
        data: list[int] = []
        for text in prepared:
            for view, (counts, mapping) in enumerate(zip(analyse(text), columns, strict=True)):
                for token, count in counts.items():
                    column = mapping.get(token)
                    if column is None:
                        column = mapping[token] = len(views)
                        views.append(view)
                    indices.append(column)
                    data.append(count)
            indptr.append(len(indices))
        from scipy.sparse import csr_matrix

        matrix = csr_matrix(
            (
                np.asarray(data, dtype=np.float64),
                np.asarray(indices, dtype=np.int64),
                np.asarray(indptr, dtype=np.int64),
            ),
            shape=(len(prepared), len(views)),
        )
        return cls(matrix, np.asarray(views, dtype=np.int64), tuple(columns))

    def idf(self, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """Smoothed inverse document frequency over ``rows``; 0 for a feature that none of
        them has, which drops it exactly as a vocabulary built from those rows would."""
        present = self.matrix[rows]
        frequency = np.bincount(present.indices, minlength=self.matrix.shape[1])
        idf = np.log((1.0 + len(rows)) / (1.0 + frequency)) + 1.0
        idf[frequency == 0] = 0.0
        result: npt.NDArray[np.float64] = idf
        return result

    def weighted(self, rows: npt.NDArray[np.int64], idf: npt.NDArray[np.float64]) -> csr_matrix:
        """Rows ``rows`` as the vectorizer would weigh them: sublinear TF times IDF, each
        view scaled to unit length, where the length also counts the features ``idf`` does
        not know (at the IDF of an unseen feature) — they have no weight to score with, but
        a message made mostly of them carries less evidence for any intent."""
        from scipy.sparse import csr_matrix

        part = self.matrix[rows].tocsr()
        part.sort_indices()
        known = idf[part.indices] > 0
        values = (1.0 + np.log(part.data)) * np.where(known, idf[part.indices], unseen_idf(idf))
        row_of_value = np.repeat(np.arange(part.shape[0]), np.diff(part.indptr))
        group = row_of_value * len(VIEWS) + self.view_of_column[part.indices]
        norms = np.sqrt(np.bincount(group, weights=values**2, minlength=part.shape[0] * len(VIEWS)))
        scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        values = np.where(known, values * scale[group], 0.0)
        weighted = csr_matrix((values, part.indices, part.indptr), shape=part.shape)
        weighted.eliminate_zeros()
        return weighted

    def vectorizer(self, idf: npt.NDArray[np.float64]) -> Vectorizer:
        """The vectorizer for live messages: the features with a non-zero IDF, renumbered."""
        kept = np.flatnonzero(idf > 0)
        renumber = np.full(len(idf), -1, dtype=np.int64)
        renumber[kept] = np.arange(len(kept))
        names: list[bytes] = []
        columns: list[npt.NDArray[np.int64]] = []
        for mapping in self.columns:
            view_names = [token for token, column in mapping.items() if idf[column] > 0]
            names.append(SEPARATOR.join(view_names).encode())
            columns.append(
                renumber[np.asarray([mapping[token] for token in view_names], dtype=np.int64)]
            )
        return Vectorizer(
            vocabulary=Vocabulary.of(names, columns), idf=idf[kept], unseen=unseen_idf(idf)
        )
