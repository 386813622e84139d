"""Kefu's one text search, used by cases, the FAQ and the console alike.

Functions flush through the caller's session and never commit: indexing a case happens in
the same transaction that saves it, so the index never shows a case that was rolled back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from kefu import deferred
from kefu.search import indexer
from kefu.search.query import RefsWithin
from kefu.search.query import search as _search
from kefu.search.schemas import SearchHit, SearchText
from kefu.search.snippet import highlight as _highlight
from kefu.search.tokenize import plan_query
from kefu.search.tokenize import tokenize as _tokenize

__all__ = [
    "batched",
    "highlight",
    "index_document",
    "index_many",
    "lock_documents",
    "remove_document",
    "search",
    "tokenize",
]

_BATCH = "kefu.search.batch"


@deferred.batch_scope
@contextmanager
def batched(db: Session) -> Iterator[None]:
    """Documents indexed inside are indexed together when the block ends: a batch of
    deferred work writes its documents, postings and statistics in one set of bulk
    statements instead of one set per document. Searches inside the block do not find
    them yet."""
    texts: list[SearchText] = []
    db.info[_BATCH] = texts
    try:
        yield
    finally:
        del db.info[_BATCH]
    indexer.index_many(db, texts)


def tokenize(text: str) -> list[str]:
    """The index's tokens for ``text``, for other domains that match Chinese text."""
    return _tokenize(text)


def index_document(
    db: Session, *, kind: str, ref: str, title: str, body: str, lang: str = "zh-CN"
) -> None:
    """Index, or re-index replacing the old text, the document ``ref`` of ``kind``."""
    index_many(db, [SearchText(kind=kind, ref=ref, title=title, body=body, lang=lang)])


def index_many(db: Session, docs: Iterable[SearchText]) -> None:
    """Bulk (re)indexing for large loads and rebuilds."""
    pending: list[SearchText] | None = db.info.get(_BATCH)
    if pending is not None:
        pending.extend(docs)
        return
    indexer.index_many(db, docs)


def lock_documents(db: Session, *, kind: str, refs: Iterable[str]) -> None:
    """On PostgreSQL, hold the documents of ``refs`` already indexed until the transaction
    ends: a writer that takes them before reading the text it indexes writes after every
    other writer that read before it (several processes index the same document). SQLite
    lets one transaction write at a time: nothing to take."""
    if db.get_bind().dialect.name == "postgresql":
        indexer.lock(db, kind=kind, refs=list(refs))


def remove_document(db: Session, *, kind: str, ref: str) -> bool:
    """Returns False when ``ref`` was not indexed, so callers may ignore a double removal."""
    pending: list[SearchText] | None = db.info.get(_BATCH)
    if pending:  # what was indexed before goes in first, so the removal comes after it
        indexer.index_many(db, pending)
        pending.clear()
    return indexer.remove(db, kind=kind, ref=ref)


def search(
    db: Session,
    *,
    kind: str,
    query: str,
    limit: int = 20,
    offset: int = 0,
    refs_within: RefsWithin | None = None,
) -> list[SearchHit]:
    """Best matches first. ``refs_within`` narrows to a set of refs or to a SELECT of refs
    (a case list's other filters); an empty or emoji-only query finds nothing, and one
    longer than 200 characters is InvalidInput."""
    return _search(db, kind=kind, query=query, limit=limit, offset=offset, refs_within=refs_within)


def highlight(text: str, query: str) -> list[tuple[str, bool]]:
    """``text`` in pieces, True where a piece matches a token of ``query``: hits' titles
    and snippets shown with the words found marked."""
    return _highlight(text, plan_query(query[:200]).tokens)
