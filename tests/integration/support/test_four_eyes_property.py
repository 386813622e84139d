"""Whatever agents and specialists do, in any order and with any amounts, no payment and
no customer's day sees more than the approval amount move without a supervisor.

Steps are drawn from every money command a surface can call (refund, reverse, open and
decide disputes, decide refunds, decide approval requests), by two agents and a
specialist, with keys from a small pool so some steps are replays; customers' own
refunds and disputes opened in the wallet join in. No supervisor ever acts."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories import make_staff
from tests.integration.wallet.wallet_helpers import ctx, funded_account

from kefu.approvals import service as approvals
from kefu.config import Settings
from kefu.errors import KefuError
from kefu.identity.models import StaffUser
from kefu.support import approval, foureyes, money
from kefu.support.requester import Requester
from kefu.wallet import check, flows, refunds
from kefu.wallet.models import Dispute, Movement, Refund
from kefu.wallet.port import build_wallet

AMOUNTS = ("120.00", "250.00", "499.00", "500.00", "799.72", "1999.00")
person = st.integers(0, 2)  # agent, agent, specialist
key = st.one_of(st.sampled_from(["k1", "k2", "k3"]), st.uuids().map(str))
pick = st.integers(0, 20)
amount = st.sampled_from(["1.00", "99.00", "250.00", "499.00", "500.00", "", "2000.00"])

step = st.one_of(
    st.tuples(st.just("refund"), person, key, pick, amount),
    st.tuples(st.just("refund"), person, key, pick, amount),
    st.tuples(st.just("reverse"), person, key, pick),
    st.tuples(st.just("dispute"), person, key, pick),
    st.tuples(
        st.just("decide_dispute"),
        person,
        key,
        pick,
        st.sampled_from(["investigating", "upheld", "declined"]),
    ),
    st.tuples(st.just("decide_refund"), person, key, pick, st.booleans()),
    st.tuples(st.just("decide_approval"), person, pick, st.booleans()),
    st.tuples(st.just("customer_refund"), pick, amount),
    st.tuples(st.just("customer_dispute"), pick),
)


def _nth(db: Session, model: Any, n: int) -> str | None:
    query = select(model.id).order_by(model.id)
    if model is Movement:
        query = query.where(Movement.kind == "payment")
    ids = list(db.scalars(query))
    return str(ids[n % len(ids)]) if ids else None


def _run(m: money.Money, people: list[StaffUser], op: tuple[Any, ...]) -> None:
    db = m.db
    name = op[0]
    if name == "customer_refund":
        payment = _nth(db, Movement, op[1])
        if payment is not None:
            refunds.create_refund(
                db,
                payment_id=int(payment),
                amount_fen=int(float(op[2] or "10") * 100),
                reason="客户在钱包里申请退款",
                ctx=ctx(),
            )
        return
    if name == "customer_dispute":
        payment = _nth(db, Movement, op[1])
        if payment is not None:
            refunds.open_dispute(db, movement_id=int(payment), reason="非本人", ctx=ctx())
        return
    staff = people[op[1]]
    if name == "decide_approval":
        waiting = approvals.pending(db)  # every role tries: only a supervisor may decide
        if waiting:
            target = waiting[op[2] % len(waiting)].request
            decider = money.Asked(requester=Requester.of_staff(staff), key="", reason="")
            approval.decide(m, decider, approval_id=target.id, approve=op[3], reason="核实")
        return
    asked = money.Asked(requester=Requester.of_staff(staff), key=op[2], reason="客户来电要求")
    if name in ("refund", "reverse", "dispute"):
        payment = _nth(db, Movement, op[3])
        if payment is None:
            return
        if name == "refund":
            money.refund(m, asked, payment_id=payment, amount=op[4] or None)
        elif name == "reverse":
            money.reverse_payment(m, asked, payment_id=payment)
        else:
            money.open_dispute(m, asked, payment_id=payment)
    elif name == "decide_dispute":
        dispute = _nth(db, Dispute, op[3])
        if dispute is not None:
            money.decide_dispute(m, asked, dispute_id=dispute, outcome=op[4])
    elif name == "decide_refund":
        refund = _nth(db, Refund, op[3])
        if refund is not None:
            money.decide_refund(
                m, asked, refund_id=refund, approve=op[4], reason=None if op[4] else "不符合"
            )


def _moved_fen(db: Session, payment_ids: list[int]) -> dict[int, int]:
    """Per payment: refunds approved or paid, and the payment itself when reversed."""
    moved = {}
    for payment_id in payment_ids:
        refunded = db.scalar(
            select(func.coalesce(func.sum(Refund.amount_fen), 0)).where(
                Refund.payment_id == payment_id, Refund.status.in_(("approved", "paid"))
            )
        )
        payment = db.get(Movement, payment_id)
        assert payment is not None
        returned = payment.amount_fen if payment.status == "reversed" else 0
        moved[payment_id] = int(refunded or 0) + returned
    return moved


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=20))
# the review's attack, and a customer's day spread over payments and kinds
@example(
    steps=[
        ("refund", n % 2, f"split-{n}", 5, value)
        for n, value in enumerate(("500.00", "500.00", "500.00", "499.00"))
    ]
)
@example(
    steps=[
        ("refund", 0, "a", 0, "120.00"),
        ("reverse", 1, "b", 2, ""),
        ("customer_refund", 1, "250.00"),
        ("decide_refund", 2, "c", 1, True),
        ("customer_dispute", 3),
        ("decide_dispute", 2, "d", 0, "investigating"),
        ("decide_dispute", 2, "e", 0, "upheld"),
    ]
)
def test_no_sequence_moves_more_than_the_limit_without_a_supervisor(
    db: Session, settings: Settings, steps: list[tuple[Any, ...]]
) -> None:
    example = db.begin_nested()
    try:
        account = funded_account(db, "20000.00")
        payment_ids = [
            flows.pay(
                db,
                account_id=account.id,
                merchant="商户",
                amount_fen=int(float(value) * 100),
                currency="CNY",
                outcome="deducted_failed" if n % 3 == 2 else "succeeded",
                ctx=ctx(),
            ).id
            for n, value in enumerate(AMOUNTS)
        ]
        people = [make_staff(db, "agent"), make_staff(db, "agent"), make_staff(db, "specialist")]
        m = money.Money(db, build_wallet(settings)(db), settings)
        limit_fen = foureyes.to_fen(settings.approval_amount_above)
        for op in steps:
            attempt = db.begin_nested()
            try:
                _run(m, people, op)
                attempt.commit()
            except KefuError:
                attempt.rollback()
            moved = _moved_fen(db, payment_ids)
            assert max(moved.values()) <= limit_fen, (op, moved)
            assert sum(moved.values()) <= limit_fen, (op, moved)  # one customer, one day
        report = check.run(db)
        assert report.ok, report.breaches
    finally:
        example.rollback()
