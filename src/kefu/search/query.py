"""Answering a query from the postings of its own tokens only.

A document has to hold at least ``min_match`` of the query's tokens, so (pigeonhole) it
holds one of the ``n - min_match + 1`` rarest ones, or the rarest required token. Those
driving tokens' postings give the candidates, newest first and at most
``CANDIDATES_PER_TOKEN`` each; each candidate is then checked and scored by index lookups
on its (kind, token, document) keys. The work is bounded by the rarest tokens, not by the
size of the index: a query made only of very common tokens (充值 in a wallet help desk)
ranks the newest matching documents rather than every one of them.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import cast

from sqlalchemy import ColumnElement, Select, Subquery, Table, case, func, literal, select, union
from sqlalchemy.orm import Session

from kefu.errors import InvalidInput
from kefu.search.indexer import check_kind
from kefu.search.models import SearchDocument, SearchKindStat, SearchPosting, SearchTermStat
from kefu.search.schemas import SearchHit
from kefu.search.snippet import make_snippet, mask_card_numbers
from kefu.search.tokenize import QueryPlan, plan_query

K1 = 1.2
B = 0.75
CANDIDATES = 5_000
MAX_LIMIT = 500

_postings = cast(Table, SearchPosting.__table__)
_documents = cast(Table, SearchDocument.__table__)

RefsWithin = Collection[str] | Select[str]


def _idf(total: int, documents: int) -> float:
    return math.log(1 + (total - documents + 0.5) / (documents + 0.5))


def _drivers(plan: QueryPlan, frequencies: dict[str, int]) -> list[str]:
    present = sorted(frequencies, key=lambda token: (frequencies[token], token))
    required = [token for token in present if token in plan.required]
    if required:
        return required[:1]
    return present[: len(present) - plan.han_minimum + 1]


def _candidates(kind: str, drivers: list[str], refs_within: RefsWithin | None) -> Subquery:
    """Candidate documents with their lengths, from the driving tokens' newest postings."""
    per_driver = max(CANDIDATES // len(drivers), 1)
    selects = []
    for token in drivers:
        driver = select(_postings.c.document_id, _postings.c.length).where(
            _postings.c.kind == kind, _postings.c.token == token
        )
        if refs_within is not None:
            driver = driver.where(
                _postings.c.document_id.in_(
                    select(_documents.c.id).where(
                        _documents.c.kind == kind, _documents.c.ref.in_(refs_within)
                    )
                )
            )
        limited = driver.order_by(_postings.c.document_id.desc()).limit(per_driver).subquery()
        selects.append(select(limited.c.document_id, limited.c.length))
    if len(selects) == 1:
        return selects[0].subquery("candidate")
    return union(*selects).subquery("candidate")


def _ranking(
    kind: str, plan: QueryPlan, candidates: Subquery, idf: dict[str, float], average: float
) -> Select[int, float]:
    """Score each candidate by one primary-key lookup per query token.

    Correlated lookups rather than a join with GROUP BY: both planners otherwise read every
    posting of every candidate through the document index, ten times the work.
    """
    frequencies = []
    for number, token in enumerate(idf):
        posting = _postings.alias(f"p{number}")
        lookup = (
            select(posting.c.tf)
            .where(
                posting.c.kind == kind,
                posting.c.token == token,
                posting.c.document_id == candidates.c.document_id,
            )
            .scalar_subquery()
        )
        frequencies.append(lookup.label(f"tf{number}"))
    # Materialised, or the planners would copy each lookup into every expression that uses it.
    looked_up = (
        select(candidates.c.document_id, candidates.c.length, *frequencies)
        .cte("looked_up")
        .prefix_with("MATERIALIZED")
    )
    norm = K1 * (1 - B) + (K1 * B / average) * looked_up.c.length
    score: ColumnElement[float] = literal(0.0)
    matched: ColumnElement[int] = literal(0)
    required: ColumnElement[int] = literal(0)
    for number, token in enumerate(idf):
        tf = looked_up.c[f"tf{number}"]
        score = score + func.coalesce(idf[token] * tf * (K1 + 1) / (tf + norm), 0.0)
        found = case((tf.is_(None), 0), else_=1)
        matched = matched + found
        if token in plan.required:
            required = required + found
    scored = score.label("score")
    return (
        select(looked_up.c.document_id, scored)
        .where(matched >= plan.min_match, required == len(plan.required))
        .order_by(scored.desc(), looked_up.c.document_id.desc())
    )


def search(
    db: Session,
    *,
    kind: str,
    query: str,
    limit: int = 20,
    offset: int = 0,
    refs_within: RefsWithin | None = None,
) -> list[SearchHit]:
    check_kind(kind)
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("bad limit", field="limit", max=MAX_LIMIT)
    if offset < 0:
        raise InvalidInput("bad offset", field="offset")
    # A full card number was indexed as its last four digits; it is searched the same way.
    plan = plan_query(mask_card_numbers(query))
    if not plan.tokens or (isinstance(refs_within, Collection) and not refs_within):
        return []
    stats = db.get(SearchKindStat, kind)
    if stats is None or stats.documents <= 0:
        return []
    frequencies = {
        token: documents
        for token, documents in db.execute(
            select(SearchTermStat.token, SearchTermStat.documents).where(
                SearchTermStat.kind == kind, SearchTermStat.token.in_(plan.tokens)
            )
        )
        if documents > 0
    }
    if not plan.required <= frequencies.keys() or len(frequencies) < plan.min_match:
        return []

    average = max(stats.total_length / stats.documents, 1.0)
    idf = {token: _idf(stats.documents, count) for token, count in frequencies.items()}
    candidates = _candidates(kind, _drivers(plan, frequencies), refs_within)
    # Pages by offset, unlike the lists of kefu.paging: the order is a BM25 score computed
    # per query over the candidates, not a column an index keeps sorted, so a keyset cursor
    # would save nothing (every page scores all candidates anyway), and the score depends
    # on corpus statistics that move as documents come and go, so a cursor's score would
    # not even mark the same place on the next request. People read the first pages only.
    statement = _ranking(kind, plan, candidates, idf, average).limit(limit).offset(offset)
    ranked = db.execute(statement).all()
    if not ranked:
        return []
    documents = {
        row.id: row
        for row in db.execute(
            select(_documents.c.id, _documents.c.ref, _documents.c.title, _documents.c.body).where(
                _documents.c.id.in_([document_id for document_id, _ in ranked])
            )
        )
    }
    return [
        SearchHit(
            ref=documents[document_id].ref,
            score=round(float(document_score), 4),
            title=documents[document_id].title,
            snippet=make_snippet(
                documents[document_id].body or documents[document_id].title, plan.tokens
            ),
        )
        for document_id, document_score in ranked
    ]
