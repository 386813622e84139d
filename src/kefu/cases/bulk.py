"""One change to many cases from the list: assign, status or priority.

Each case goes through the same service function as a change on its own page, in its own
savepoint, so each writes its own audit row and a case that refuses (a move the transition
table forbids) leaves the others done and is reported by reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from kefu import audit
from kefu.cases import service
from kefu.cases.categories import Priority
from kefu.cases.transitions import Mover, Status
from kefu.config import Settings
from kefu.db import utcnow
from kefu.errors import InvalidInput, KefuError

MAX_CASES = 200
CHANGES = ("assign", "status", "priority")


@dataclass
class BulkResult:
    changed: list[str] = field(default_factory=list)
    refused: list[tuple[str, KefuError]] = field(default_factory=list)


def apply(
    db: Session,
    *,
    references: list[str],
    change: str,
    value: str,
    actor: audit.Actor,
    settings: Settings,
) -> BulkResult:
    if change not in CHANGES:
        raise InvalidInput(f"unknown bulk change {change!r}", field="change")
    if not references:
        raise InvalidInput("choose at least one case", field="cases")
    if len(references) > MAX_CASES:
        raise InvalidInput("too many cases at once", field="cases", max=MAX_CASES)
    if change == "status" and value not in {s.value for s in Status}:
        raise InvalidInput(f"unknown status {value!r}", field="value")
    if change == "priority" and value not in {p.value for p in Priority}:
        raise InvalidInput(f"unknown priority {value!r}", field="value")
    result = BulkResult()
    now = utcnow()
    for reference in dict.fromkeys(references):
        try:
            with db.begin_nested():
                case = service.get_case(db, reference, for_update=True)
                if change == "assign":
                    service.assign(db, case, owner_username=value or None, actor=actor, now=now)
                elif change == "priority":
                    service.update(
                        db,
                        case,
                        changes={"priority": value},
                        actor=actor,
                        settings=settings,
                        now=now,
                    )
                elif case.status != value:
                    service.move(
                        db,
                        case,
                        target=Status(value),
                        mover=Mover.STAFF,
                        actor=actor,
                        settings=settings,
                        now=now,
                    )
            result.changed.append(case.reference)
        except KefuError as exc:
            result.refused.append((reference, exc))
    return result
