"""Writing documents into the index, one at a time or in bulk, with the statistics BM25
needs kept up to date in the same transaction.

Statements go to the Core tables rather than the ORM: a bulk load writes tens of millions
of postings, and nothing here needs identity-map objects.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import Table, bindparam, delete, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kefu.db import utcnow
from kefu.errors import InvalidInput
from kefu.search.models import (
    KIND_LENGTH,
    REF_LENGTH,
    SearchDocument,
    SearchKindStat,
    SearchPosting,
    SearchTermStat,
)
from kefu.search.schemas import SearchText
from kefu.search.snippet import mask_card_numbers
from kefu.search.tokenize import tokenize

TITLE_WEIGHT = 3
MAX_TITLE_CHARS = 300
MAX_BODY_CHARS = 20_000
_CHUNK = 500

_documents = cast(Table, SearchDocument.__table__)
_postings = cast(Table, SearchPosting.__table__)
_terms = cast(Table, SearchTermStat.__table__)
_kinds = cast(Table, SearchKindStat.__table__)

_T = TypeVar("_T")


@dataclass(frozen=True)
class _Prepared:
    text: SearchText
    title: str
    body: str
    frequencies: Counter[str]
    length: int


def check_kind(kind: str) -> None:
    if not kind or len(kind) > KIND_LENGTH:
        raise InvalidInput("bad search kind", field="kind")


def _prepare(text: SearchText) -> _Prepared:
    check_kind(text.kind)
    if not text.ref or len(text.ref) > REF_LENGTH:
        raise InvalidInput("bad search reference", field="ref")
    title = mask_card_numbers(text.title)[:MAX_TITLE_CHARS]
    body = mask_card_numbers(text.body)[:MAX_BODY_CHARS]
    frequencies = Counter(tokenize(body))
    for token in tokenize(title):
        frequencies[token] += TITLE_WEIGHT
    length = sum(frequencies.values())
    return _Prepared(text=text, title=title, body=body, frequencies=frequencies, length=length)


@cache
def _counter_upserts(dialect: str) -> tuple[Any, Any]:
    """The upserts adding to a token's and a kind's counters (the dialect's INSERT has
    ``on_conflict_do_update`` on SQLite and PostgreSQL), their values bound at each
    call. Built once per dialect: a batch of deferred work indexes its documents in a few
    statements, and building these cost more than running them."""
    upsert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    terms = upsert(_terms)
    terms = terms.on_conflict_do_update(
        index_elements=[_terms.c.kind, _terms.c.token],
        set_={"documents": _terms.c.documents + terms.excluded.documents},
    )
    kinds = upsert(_kinds)
    kinds = kinds.on_conflict_do_update(
        index_elements=[_kinds.c.kind],
        set_={
            "documents": _kinds.c.documents + kinds.excluded.documents,
            "total_length": _kinds.c.total_length + kinds.excluded.total_length,
        },
    )
    return terms, kinds


def _chunks(items: Sequence[_T], size: int = _CHUNK) -> Iterable[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


_EXISTING = select(_documents.c.kind, _documents.c.ref, _documents.c.id).where(
    tuple_(_documents.c.kind, _documents.c.ref).in_(bindparam("keys", expanding=True))
)


def _existing(db: Session, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for chunk in _chunks(keys):
        for kind, ref, document_id in db.execute(_EXISTING, {"keys": list(chunk)}):
            found[(kind, ref)] = document_id
    return found


def _unindex(db: Session, ids: Sequence[int]) -> tuple[Counter[tuple[str, str]], Counter[str]]:
    """Delete the postings of ``ids``; returns per-token document and per-kind length losses."""
    lost: Counter[tuple[str, str]] = Counter()
    lengths: Counter[str] = Counter()
    for chunk in _chunks(ids):
        rows = db.execute(
            select(_postings.c.kind, _postings.c.token, _postings.c.tf).where(
                _postings.c.document_id.in_(chunk)
            )
        )
        for kind, token, tf in rows:
            lost[(kind, token)] += 1
            lengths[kind] += tf
        db.execute(delete(_postings).where(_postings.c.document_id.in_(chunk)))
    return lost, lengths


def _apply_term_deltas(db: Session, deltas: Counter[tuple[str, str]]) -> None:
    # Sorted, so that two transactions take the counter rows in one order and cannot deadlock.
    keys = sorted(key for key, delta in deltas.items() if delta)
    gained = [{"kind": k, "token": t, "documents": deltas[(k, t)]} for k, t in keys]
    if not gained:
        return
    statement = _counter_upserts(db.get_bind().dialect.name)[0]
    for batch in _chunks(gained, 5_000):
        db.execute(statement, list(batch))
    emptied = [(k, t) for k, t in keys if deltas[(k, t)] < 0]
    for chunk in _chunks(emptied):
        db.execute(
            delete(_terms).where(
                tuple_(_terms.c.kind, _terms.c.token).in_(chunk), _terms.c.documents <= 0
            )
        )


def _apply_kind_deltas(db: Session, documents: Counter[str], lengths: Counter[str]) -> None:
    changes = [
        {"kind": kind, "documents": documents[kind], "total_length": lengths[kind]}
        for kind in sorted(set(documents) | set(lengths))
    ]
    if changes:
        db.execute(_counter_upserts(db.get_bind().dialect.name)[1], changes)


def index_many(db: Session, texts: Iterable[SearchText]) -> None:
    """Index or re-index documents with bulk statements; a re-indexed document's old
    postings are replaced. A ref given twice keeps its last text."""
    latest: dict[tuple[str, str], _Prepared] = {}
    for text in texts:
        latest[(text.kind, text.ref)] = _prepare(text)
    if not latest:
        return
    existing = _existing(db, list(latest))
    term_deltas, length_deltas = _unindex(db, sorted(existing.values()))
    for key in term_deltas:
        term_deltas[key] = -term_deltas[key]
    for kind in length_deltas:
        length_deltas[kind] = -length_deltas[kind]
    document_deltas: Counter[str] = Counter()

    now = utcnow()
    updates = [
        {
            "b_id": existing[key],
            "lang": p.text.lang,
            "title": p.title,
            "body": p.body,
            "length": p.length,
            "updated_at": now,
        }
        for key, p in latest.items()
        if key in existing
    ]
    if updates:
        db.execute(
            update(_documents)
            .where(_documents.c.id == bindparam("b_id"))
            .values(
                lang=bindparam("lang"),
                title=bindparam("title"),
                body=bindparam("body"),
                length=bindparam("length"),
                updated_at=bindparam("updated_at"),
            ),
            updates,
        )
    fresh = [(key, p) for key, p in latest.items() if key not in existing]
    ids = dict(existing)
    for chunk in _chunks(fresh, 2_000):
        rows = db.execute(
            insert(_documents).returning(_documents.c.id, sort_by_parameter_order=True),
            [
                {
                    "kind": p.text.kind,
                    "ref": p.text.ref,
                    "lang": p.text.lang,
                    "title": p.title,
                    "body": p.body,
                    "length": p.length,
                    "updated_at": now,
                }
                for _, p in chunk
            ],
        )
        for (key, _), document_id in zip(chunk, rows.scalars(), strict=True):
            ids[key] = document_id
            document_deltas[key[0]] += 1

    postings: list[dict[str, Any]] = []
    for key, p in latest.items():
        length_deltas[key[0]] += p.length
        for token, tf in p.frequencies.items():
            term_deltas[(key[0], token)] += 1
            postings.append(
                {
                    "kind": key[0],
                    "token": token,
                    "document_id": ids[key],
                    "tf": tf,
                    "length": p.length,
                }
            )
    for rows_batch in _chunks(postings, 20_000):
        db.execute(insert(_postings), list(rows_batch))
    _apply_term_deltas(db, term_deltas)
    _apply_kind_deltas(db, document_deltas, length_deltas)


def lock(db: Session, *, kind: str, refs: Sequence[str]) -> None:
    """Lock the documents of ``refs`` that exist until the transaction ends, in the order of
    their refs (two transactions locking some of the same wait, they do not deadlock)."""
    check_kind(kind)
    for chunk in _chunks(sorted(set(refs))):
        db.execute(
            select(_documents.c.id)
            .where(_documents.c.kind == kind, _documents.c.ref.in_(chunk))
            .order_by(_documents.c.ref)
            .with_for_update()
        )


def remove(db: Session, *, kind: str, ref: str) -> bool:
    """Drop a document and its postings; False when it was not indexed."""
    check_kind(kind)
    document_id = db.execute(
        select(_documents.c.id).where(_documents.c.kind == kind, _documents.c.ref == ref)
    ).scalar_one_or_none()
    if document_id is None:
        return False
    lost, lengths = _unindex(db, [document_id])
    db.execute(delete(_documents).where(_documents.c.id == document_id))
    for key in lost:
        lost[key] = -lost[key]
    _apply_term_deltas(db, lost)
    _apply_kind_deltas(db, Counter({kind: -1}), Counter({kind: -lengths[kind]}))
    return True
