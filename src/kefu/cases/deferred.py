"""What case changes leave for after their commit (``kefu.deferred``): the text search and
the quality figures of a new case."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from kefu import deferred
from kefu.cases import service, timeline
from kefu.cases.models import Case, CaseEvent
from kefu.quality import case_hooks as quality_hooks
from kefu.search import service as search_service

_HELD = "kefu.cases.deferred.held"


@dataclass
class _Held:
    cases: dict[int, Case] = field(default_factory=dict)
    # the cases whose text the batch indexes when it ends
    reindex: set[int] = field(default_factory=set)


@deferred.batch_scope
@contextmanager
def _holding_cases(db: Session) -> Iterator[None]:
    """The cases a batch reads stay in its session until it ends (the session forgets
    objects nothing holds), so later work on the same case in the batch finds it without
    reading it again. The batch's cases to re-index are indexed as it ends."""
    held = db.info[_HELD] = _Held()
    try:
        yield
        _index(db, held)
    finally:
        del db.info[_HELD]


# Built once, the ids bound as a list at each call (an expanding IN).
_CASES = select(Case).where(Case.id.in_(bindparam("ids", expanding=True)))
_PUBLIC = (
    select(CaseEvent)
    .where(
        CaseEvent.case_id.in_(bindparam("ids", expanding=True)),
        CaseEvent.visibility == timeline.PUBLIC,
    )
    .order_by(CaseEvent.id)
)


@deferred.reads_ahead(service.OPENED, service.REINDEX, service.QUALITY_OPENED)
def _read_cases(db: Session, payloads: list[dict[str, Any]]) -> None:
    """The cases of a batch's rows in one statement, not one each."""
    held: _Held | None = db.info.get(_HELD)
    if held is None:
        return
    ids = sorted({payload["case_id"] for payload in payloads} - held.cases.keys())
    if not ids:
        return
    for case in db.scalars(_CASES, {"ids": ids}):
        held.cases[case.id] = case


@deferred.reads_ahead(service.OPENED, service.QUALITY_OPENED)
def _read_contacts(db: Session, payloads: list[dict[str, Any]]) -> None:
    quality_hooks.reading_ahead(db, sorted({payload["case_id"] for payload in payloads}))


def _case(db: Session, case_id: int) -> Case | None:
    held: _Held | None = db.info.get(_HELD)
    if held is not None and case_id in held.cases:
        return held.cases[case_id]
    case = db.get(Case, case_id)
    if held is not None and case is not None:
        held.cases[case_id] = case
    return case


def _reindex(db: Session, case: Case) -> None:
    held: _Held | None = db.info.get(_HELD)
    if held is None:
        service.reindex(db, case)
    else:
        held.reindex.add(case.id)


def _index(db: Session, held: _Held) -> None:
    """Index the text of the batch's cases to re-index, read now, under the lock of their
    documents. Several processors on PostgreSQL: a batch that indexed the text it read
    when it began wrote over a newer one another processor indexed meanwhile, and the case
    kept the old text until its next change. Read under the lock, the last to write a
    document read its case last; a change committed after that read leaves a re-index row
    whose batch reads after this one commits. The cases' public events are read for all of
    them in one statement."""
    if not held.reindex:
        return
    ids = sorted(held.reindex)
    cases = [held.cases[case_id] for case_id in ids]
    if db.get_bind().dialect.name == "postgresql":
        search_service.lock_documents(
            db, kind=service.SEARCH_KIND, refs=[case.reference for case in cases]
        )
        db.execute(_CASES.execution_options(populate_existing=True), {"ids": ids}).all()
    # a duplicate merged since its re-index was left has no document any more
    # (``work.merge``): indexing it would bring it back beside the case it went into
    cases = [case for case in cases if case.merged_into_id is None]
    ids = [case.id for case in cases]
    if not ids:
        return
    public: dict[int, list[CaseEvent]] = {case_id: [] for case_id in ids}
    for event in db.scalars(_PUBLIC, {"ids": ids}):
        public[event.case_id].append(event)
    for case in cases:
        service.reindex(db, case, public=public[case.id])


@deferred.handler(service.REINDEX)
def reindex(db: Session, payload: dict[str, Any]) -> None:
    case = _case(db, payload["case_id"])
    if case is not None:  # a case is never deleted, but a test database may be emptied
        _reindex(db, case)


@deferred.handler(service.OPENED)
def opened(db: Session, payload: dict[str, Any]) -> None:
    case = _case(db, payload["case_id"])
    if case is not None:
        # the figures first: they may end the batch before this row (deferred.Later), which
        # they do before changing anything
        quality_hooks.opened(db, case, now=datetime.fromisoformat(payload["at"]))
        _reindex(db, case)


@deferred.handler(service.QUALITY_OPENED)
def quality_opened(db: Session, payload: dict[str, Any]) -> None:
    case = _case(db, payload["case_id"])
    if case is not None:
        quality_hooks.opened(db, case, now=datetime.fromisoformat(payload["at"]))
