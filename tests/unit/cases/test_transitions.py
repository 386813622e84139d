"""Every status move, allowed or refused, for every kind of mover."""

from __future__ import annotations

import itertools

import pytest

from kefu.cases.transitions import ALLOWED, IllegalMove, Mover, Status, check_move, may_move

S, M = Status, Mover

EXPECTED = {
    (S.NEW, S.OPEN): {M.STAFF, M.SYSTEM},
    (S.NEW, S.PENDING_CUSTOMER): {M.STAFF},
    (S.NEW, S.PENDING_THIRD_PARTY): {M.STAFF},
    (S.NEW, S.RESOLVED): {M.STAFF},
    (S.OPEN, S.PENDING_CUSTOMER): {M.STAFF},
    (S.OPEN, S.PENDING_THIRD_PARTY): {M.STAFF},
    (S.OPEN, S.RESOLVED): {M.STAFF},
    (S.PENDING_CUSTOMER, S.OPEN): {M.STAFF, M.CUSTOMER, M.SYSTEM},
    (S.PENDING_CUSTOMER, S.PENDING_THIRD_PARTY): {M.STAFF},
    (S.PENDING_CUSTOMER, S.RESOLVED): {M.STAFF, M.SYSTEM},
    (S.PENDING_THIRD_PARTY, S.OPEN): {M.STAFF, M.SYSTEM},
    (S.PENDING_THIRD_PARTY, S.PENDING_CUSTOMER): {M.STAFF},
    (S.PENDING_THIRD_PARTY, S.RESOLVED): {M.STAFF},
    (S.RESOLVED, S.OPEN): {M.STAFF, M.CUSTOMER},
    (S.RESOLVED, S.CLOSED): {M.STAFF, M.SYSTEM},
    (S.CLOSED, S.OPEN): {M.CUSTOMER},
}


@pytest.mark.parametrize(
    ("current", "target", "mover"), list(itertools.product(Status, Status, Mover))
)
def test_every_move_for_every_mover(current: Status, target: Status, mover: Mover) -> None:
    allowed = mover in EXPECTED.get((current, target), set())
    assert may_move(current, target, mover) is allowed
    if allowed:
        check_move(current, target, mover)
    else:
        with pytest.raises(IllegalMove) as caught:
            check_move(current, target, mover)
        assert caught.value.params == {"current": current.value, "target": target.value}
        assert caught.value.status == 409


def test_every_status_has_a_row_and_nothing_moves_to_new() -> None:
    assert set(ALLOWED) == set(Status)
    assert all(S.NEW not in targets for targets in ALLOWED.values())
