"""What case changes leave for after their commit (``kefu.deferred``): the text search and
the quality figures of a new case."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from kefu import deferred
from kefu.cases import service
from kefu.cases.models import Case
from kefu.quality import case_hooks as quality_hooks

_HELD = "kefu.cases.deferred.held"


@deferred.batch_scope
@contextmanager
def _holding_cases(db: Session) -> Iterator[None]:
    """The cases a batch reads stay in its session until it ends (the session forgets
    objects nothing holds), so later work on the same case in the batch finds it without
    reading it again."""
    db.info[_HELD] = []
    try:
        yield
    finally:
        del db.info[_HELD]


def _case(db: Session, case_id: int) -> Case | None:
    case = db.get(Case, case_id)
    held: list[Case] | None = db.info.get(_HELD)
    if held is not None and case is not None:
        held.append(case)
    return case


@deferred.handler(service.REINDEX)
def reindex(db: Session, payload: dict[str, Any]) -> None:
    case = _case(db, payload["case_id"])
    if case is not None:  # a case is never deleted, but a test database may be emptied
        service.reindex(db, case)


@deferred.handler(service.OPENED)
def opened(db: Session, payload: dict[str, Any]) -> None:
    case = _case(db, payload["case_id"])
    if case is not None:
        # the figures first: they may end the batch before this row (deferred.Later), which
        # they do before changing anything
        quality_hooks.opened(db, case, now=datetime.fromisoformat(payload["at"]))
        service.reindex(db, case)


@deferred.handler(service.QUALITY_OPENED)
def quality_opened(db: Session, payload: dict[str, Any]) -> None:
    case = _case(db, payload["case_id"])
    if case is not None:
        quality_hooks.opened(db, case, now=datetime.fromisoformat(payload["at"]))
