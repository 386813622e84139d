"""The case lifecycle as data: which status may follow which, and who may make the move.

new → open → pending_customer / pending_third_party → resolved → closed. A customer's reply
moves a case waiting on them back to open and reopens a resolved case, or a closed one within
the reopen window (the service checks the window). Staff never reopen a closed case: the
customer's word is what reopens it, so closing means something in the figures.
"""

from __future__ import annotations

from enum import StrEnum

from kefu.errors import Conflict


class Status(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING_CUSTOMER = "pending_customer"
    PENDING_THIRD_PARTY = "pending_third_party"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Mover(StrEnum):
    STAFF = "staff"
    CUSTOMER = "customer"
    SYSTEM = "system"  # the scheduler: auto-close, pick-up by routing


S, M = Status, Mover
_STAFF = frozenset({M.STAFF})
_STAFF_SYSTEM = frozenset({M.STAFF, M.SYSTEM})
_ANYONE = frozenset({M.STAFF, M.CUSTOMER, M.SYSTEM})

ALLOWED: dict[Status, dict[Status, frozenset[Mover]]] = {
    S.NEW: {
        S.OPEN: _STAFF_SYSTEM,
        S.PENDING_CUSTOMER: _STAFF,
        S.PENDING_THIRD_PARTY: _STAFF,
        S.RESOLVED: _STAFF,
    },
    S.OPEN: {
        S.PENDING_CUSTOMER: _STAFF,
        S.PENDING_THIRD_PARTY: _STAFF,
        S.RESOLVED: _STAFF,
    },
    S.PENDING_CUSTOMER: {
        S.OPEN: _ANYONE,
        S.PENDING_THIRD_PARTY: _STAFF,
        S.RESOLVED: _STAFF_SYSTEM,
    },
    S.PENDING_THIRD_PARTY: {
        S.OPEN: _STAFF_SYSTEM,  # the bank's answer came back
        S.PENDING_CUSTOMER: _STAFF,
        S.RESOLVED: _STAFF,
    },
    S.RESOLVED: {
        S.OPEN: frozenset({M.STAFF, M.CUSTOMER}),
        S.CLOSED: _STAFF_SYSTEM,
    },
    S.CLOSED: {
        S.OPEN: frozenset({M.CUSTOMER}),
    },
}

# While a case is in one of these, the clock of its resolution target may stop
# (if the SLA policy says so): the next move is somebody else's.
PAUSING = frozenset({S.PENDING_CUSTOMER})
# Cases in these statuses no longer count towards SLA targets or follow-ups.
FINISHED = frozenset({S.RESOLVED, S.CLOSED})
PENDING = frozenset({S.PENDING_CUSTOMER, S.PENDING_THIRD_PARTY})


class IllegalMove(Conflict):
    code = "case_illegal_move"
    message_key = "error.case.illegal_move"


def may_move(current: Status, target: Status, mover: Mover) -> bool:
    return mover in ALLOWED[current].get(target, frozenset())


def check_move(current: Status, target: Status, mover: Mover) -> None:
    """Raise ``IllegalMove`` naming both statuses unless ``mover`` may make this move."""
    if not may_move(current, target, mover):
        raise IllegalMove(
            f"a case cannot go from {current} to {target} by {mover}",
            current=current.value,
            target=target.value,
        )


def next_statuses(current: Status, mover: Mover) -> list[Status]:
    return [target for target, movers in ALLOWED[current].items() if mover in movers]
