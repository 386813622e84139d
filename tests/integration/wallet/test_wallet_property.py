"""Random sequences of wallet operations, with keys drawn from a small pool so they are
often repeated: after every step every journal sums to zero, every balance equals its
entries and none is negative, and a replayed key returns its first result without moving
money."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.integration.wallet.wallet_helpers import card_of, ctx, funded_account

from kefu.errors import KefuError
from kefu.wallet import accounts, check, flows, refunds
from kefu.wallet.errors import IdempotencyConflict
from kefu.wallet.models import WalletAccount

ACCOUNTS = 3
who = st.integers(0, ACCOUNTS - 1)
amount = st.integers(1, 600_00)
key = st.one_of(st.sampled_from(["k1", "k2", "k3", "k4"]), st.uuids().map(str))
pick = st.integers(0, 50)

operation = st.one_of(
    st.tuples(st.just("top_up"), key, who, amount),
    st.tuples(
        st.just("pay"),
        key,
        who,
        amount,
        st.sampled_from(["succeeded", "failed", "deducted_failed"]),
    ),
    st.tuples(st.just("transfer"), key, who, who, amount, st.booleans()),
    st.tuples(st.just("withdraw"), key, who, amount),
    st.tuples(
        st.just("settle"),
        key,
        pick,
        st.sampled_from(["credited", "failed", "reversed", "arrived", "returned"]),
    ),
    st.tuples(st.just("refund"), key, pick, amount),
    st.tuples(st.just("decide"), key, pick, st.booleans()),
    st.tuples(st.just("pay_refund"), key, pick),
    st.tuples(st.just("freeze"), key, who),
    st.tuples(st.just("unfreeze"), key, who),
    st.tuples(st.just("repeat"), pick),
    st.tuples(st.just("repeat"), pick),
)


def _apply(db: Session, op: tuple[Any, ...], ids: list[str]) -> Any:
    name = op[0]
    if name == "top_up":
        _, k, i, fen = op
        return flows.start_top_up(
            db,
            account_id=ids[i],
            card_id=card_of(db, ids[i]).id,
            amount_fen=fen,
            currency="CNY",
            ctx=ctx(k),
        )
    if name == "pay":
        _, k, i, fen, outcome = op
        return flows.pay(
            db,
            account_id=ids[i],
            merchant="商户",
            amount_fen=fen,
            currency="CNY",
            outcome=outcome,
            ctx=ctx(k),
        )
    if name == "transfer":
        _, k, i, j, fen, hold = op
        return flows.transfer(
            db,
            account_id=ids[i],
            to_account_id=ids[j],
            amount_fen=fen,
            currency="CNY",
            ctx=ctx(k),
            hold=hold,
        )
    if name == "withdraw":
        _, k, i, fen = op
        return flows.withdraw(
            db,
            account_id=ids[i],
            card_id=card_of(db, ids[i]).id,
            amount_fen=fen,
            currency="CNY",
            ctx=ctx(k),
        )
    if name == "settle":
        _, k, n, outcome = op
        return flows.settle(db, movement_id=n, outcome=outcome, ctx=ctx(k))
    if name == "refund":
        _, k, n, fen = op
        return refunds.create_refund(db, payment_id=n, amount_fen=fen, reason="退款", ctx=ctx(k))
    if name == "decide":
        _, k, n, approve = op
        return refunds.decide_refund(
            db,
            refund_id=n,
            approve=approve,
            reason=None if approve else "不符合",
            ctx=ctx(k),
        )
    if name == "pay_refund":
        _, k, n = op
        return refunds.pay_refund(db, refund_id=n, ctx=ctx(k))
    if name == "freeze":
        _, k, i = op
        return accounts.freeze(db, account_id=ids[i], reason="risk", ctx=ctx(k))
    if name == "unfreeze":
        _, k, i = op
        return accounts.unfreeze(db, account_id=ids[i], ctx=ctx(k))
    return None


_PICKS = {
    "settle": "movements",
    "refund": "movements",
    "decide": "refunds",
    "pay_refund": "refunds",
}


def _resolve(op: tuple[Any, ...], made: dict[str, list[int]]) -> tuple[Any, ...] | None:
    """Turn a drawn index into the id it picks, so two steps are the same request exactly
    when they send the same arguments."""
    if op[0] not in _PICKS:
        return op
    pool = made[_PICKS[op[0]]]
    if not pool:
        return None
    return (*op[:2], pool[op[2] % len(pool)], *op[3:])


def _money(db: Session, ids: list[str]) -> list[int]:
    return [
        db.scalar(select(WalletAccount.balance_fen).where(WalletAccount.id == i)) or 0 for i in ids
    ]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(operation, min_size=1, max_size=25))
def test_random_operations_keep_the_ledger_sound(db: Session, steps: list[tuple[Any, ...]]) -> None:
    example = db.begin_nested()
    try:
        ids = [funded_account(db, "1000.00").id for _ in range(ACCOUNTS - 1)]
        ids.append(funded_account(db).id)
        made: dict[str, list[int]] = {"movements": [], "refunds": []}
        first_result: dict[str, tuple[tuple[Any, ...], Any]] = {}
        done: list[tuple[Any, ...]] = []
        for step in steps:
            if step[0] == "repeat":
                op = done[step[1] % len(done)] if done else None
            else:
                op = _resolve(step, made)
            if op is None:
                continue
            done.append(op)
            k = op[1]
            before = _money(db, ids)
            used = first_result.get(k)
            try:
                result = _apply(db, op, ids)
            except IdempotencyConflict:
                assert used is not None and used[0] != op
                continue
            except KefuError as exc:
                assert used is None or used[0] != op, f"replay of {op} refused: {exc!r}"
                result = None
            if result is not None:
                ref = (type(result).__name__, result.id)
                assert used is None or used[0] == op, "a reused key ran another request"
                if used is not None:
                    assert ref == used[1], "a replayed key gave another result"
                    assert _money(db, ids) == before, "a replayed key moved money"
                first_result.setdefault(k, (op, ref))
                bucket = "refunds" if ref[0] == "Refund" else "movements"
                if ref[0] in ("Refund", "Movement") and result.id not in made[bucket]:
                    made[bucket].append(result.id)
            report = check.run(db)
            assert report.ok, (op, report.breaches)
            assert min(_money(db, ids)) >= 0
        assert db.scalar(select(func.count()).select_from(WalletAccount)) >= ACCOUNTS
    finally:
        example.rollback()
