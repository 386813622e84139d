"""What case changes leave for after their commit (``kefu.deferred``): the text search and
the quality figures of a new case."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from kefu import deferred
from kefu.cases import service
from kefu.cases.models import Case
from kefu.quality import case_hooks as quality_hooks


@deferred.handler(service.REINDEX)
def reindex(db: Session, payload: dict[str, Any]) -> None:
    case = db.get(Case, payload["case_id"])
    if case is not None:  # a case is never deleted, but a test database may be emptied
        service.reindex(db, case)


@deferred.handler(service.QUALITY_OPENED)
def quality_opened(db: Session, payload: dict[str, Any]) -> None:
    case = db.get(Case, payload["case_id"])
    if case is not None:
        quality_hooks.opened(db, case, now=datetime.fromisoformat(payload["at"]))
