"""The two ways around four eyes found in review, refused: refunds split on one payment
(and across one customer's day), a rejected request asked again, and a dispute upheld
into an approved refund. Through the staff API as the attacker used it, and through the
commands every surface calls."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories import make_staff, staff_token
from tests.integration.wallet.wallet_helpers import ctx, funded_account

from kefu.approvals import service as approvals
from kefu.approvals.errors import RejectedBefore
from kefu.approvals.models import ApprovalRequest
from kefu.config import Settings
from kefu.identity.models import StaffUser
from kefu.support import account as support_account
from kefu.support import approval, money
from kefu.support.requester import Requester
from kefu.wallet import accounts, flows, ledger, refunds
from kefu.wallet.models import Movement, Refund
from kefu.wallet.port import build_wallet


def _pay(db: Session, account_id: str, amount: str, outcome: str = "succeeded") -> Movement:
    return flows.pay(
        db,
        account_id=account_id,
        merchant="携程旅行",
        amount_fen=ledger.to_fen(amount),
        currency="CNY",
        outcome=outcome,
        ctx=ctx(),
    )


def _bearer(client: TestClient, db: Session, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {staff_token(client, db, role)}"}


def _keyed(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Idempotency-Key": uuid.uuid4().hex}


def _approved_fen(db: Session, payment_id: int) -> int:
    total = db.scalar(
        select(func.coalesce(func.sum(Refund.amount_fen), 0)).where(
            Refund.payment_id == payment_id, Refund.status.in_(("approved", "paid"))
        )
    )
    return int(total or 0)


def test_split_refunds_after_a_rejection_are_refused_or_sent_to_a_supervisor(
    client: TestClient, db: Session
) -> None:
    """The review's first attack: a supervisor rejects 1,999.00; the agent then asks
    500 + 500 + 500 + 499 on the same payment."""
    account = funded_account(db, "5000.00")
    payment = _pay(db, account.id, "1999.00")
    db.commit()
    agent, boss = _bearer(client, db, "agent"), _bearer(client, db, "supervisor")

    def ask(amount: str, reason: str = "客户要求退款") -> tuple[int, str]:
        body = {"transaction_id": str(payment.id), "amount": amount, "reason": reason}
        answer = client.post("/api/v1/wallet/refunds", json=body, headers=_keyed(agent))
        if answer.status_code >= 400:
            return answer.status_code, answer.json()["error"]["code"]
        return answer.status_code, answer.json()["status"]

    whole = client.post(
        "/api/v1/wallet/refunds",
        json={"transaction_id": str(payment.id), "amount": "1999.00", "reason": "客户要求退款"},
        headers=_keyed(agent),
    )
    assert (whole.status_code, whole.json()["status"]) == (202, "requested")
    rejected = client.post(
        f"/api/v1/wallet/refunds/{whole.json()['id']}/decision",
        json={"approve": False, "reason": "商家已发货，不符合退款条件"},
        headers=_keyed(boss),
    )
    assert (rejected.status_code, rejected.json()["status"]) == (200, "rejected")

    # the same request again, cut in pieces: refused with the supervisor's reason
    assert ask("500.00") == (409, "approval_rejected_before")
    assert ask("499.00", reason="客户要求退款!") == (409, "approval_rejected_before")
    refused = client.post(
        "/api/v1/wallet/refunds",
        json={"transaction_id": str(payment.id), "amount": "500.00", "reason": "客户要求退款"},
        headers={**_keyed(agent), "Accept-Language": "zh-CN"},
    )
    assert "商家已发货" in refused.json()["error"]["message"]
    # with new facts every piece waits for a supervisor: a "no" on the payment stands
    assert ask("500.00", reason="商家书面同意退款，附邮件") == (202, "requested")
    assert ask("499.00", reason="客户补充了未收货证明") == (202, "requested")
    assert _approved_fen(db, payment.id) == 0
    db.expire_all()
    waiting = approvals.pending(db)
    assert [r.request.amount for r in waiting] == ["500.00", "499.00"]
    assert {r.request.payment_id for r in waiting} == {str(payment.id)}


def test_refunds_split_on_one_payment_move_no_more_than_the_limit_alone(
    client: TestClient, db: Session
) -> None:
    account = funded_account(db, "5000.00")
    payment = _pay(db, account.id, "1999.00")
    db.commit()
    agents = [_bearer(client, db, "agent") for _ in range(2)]
    codes = []
    for n, amount in enumerate(("500.00", "500.00", "500.00", "499.00")):
        answer = client.post(
            "/api/v1/wallet/refunds",
            json={"transaction_id": str(payment.id), "amount": amount, "reason": f"第{n}次"},
            headers=_keyed(agents[n % 2]),  # two colleagues take turns: still one payment
        )
        codes.append((answer.status_code, answer.json()["status"]))
    assert codes == [
        (201, "approved"),
        (202, "requested"),
        (202, "requested"),
        (202, "requested"),
    ]
    assert _approved_fen(db, payment.id) == 500_00
    assert db.scalar(select(func.count()).select_from(ApprovalRequest)) == 3


def _desk(db: Session, settings: Settings, role: str = "agent") -> tuple[StaffUser, money.Money]:
    return make_staff(db, role), money.Money(db, build_wallet(settings)(db), settings)


def _asked(staff: StaffUser, reason: str = "客户来电") -> money.Asked:
    return money.Asked(requester=Requester.of_staff(staff), key=uuid.uuid4().hex, reason=reason)


def test_one_customers_day_is_counted_across_payments_and_kinds(
    db: Session, settings: Settings
) -> None:
    account = funded_account(db, "5000.00")
    first, second = _pay(db, account.id, "300.00"), _pay(db, account.id, "250.00")
    deducted = _pay(db, account.id, "150.00", outcome="deducted_failed")
    third = _pay(db, account.id, "200.00")
    agent, _ = _desk(db, settings)
    morning = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)  # 09:00 in China
    m = money.Money(db, build_wallet(settings)(db), settings, now=morning)
    assert not money.refund(m, _asked(agent), payment_id=str(first.id), amount=None).waiting
    # 300 + 250 is more than 500 on one customer's day, although each payment is smaller
    later = money.refund(m, _asked(agent), payment_id=str(second.id), amount=None)
    assert later.waiting and later.view.status == "requested"
    assert not money.reverse_payment(m, _asked(agent), payment_id=str(deducted.id)).waiting
    assert money.refund(m, _asked(agent), payment_id=str(third.id), amount="100.00").waiting
    tomorrow = money.Money(m.db, m.wallet, settings, now=morning + timedelta(days=1))
    done = money.refund(tomorrow, _asked(agent), payment_id=str(third.id), amount="50.00")
    assert (done.waiting, done.view.status) == (False, "approved")


def test_a_dispute_upheld_above_the_limit_leaves_its_refund_waiting(
    client: TestClient, db: Session, settings: Settings
) -> None:
    """The review's second attack: an agent opens a dispute on 799.72 through the API and
    a specialist upholds it."""
    account = funded_account(db, "5000.00")
    payment = _pay(db, account.id, "799.72")
    db.commit()
    agent, specialist = _bearer(client, db, "agent"), _bearer(client, db, "specialist")
    other_boss = _bearer(client, db, "supervisor")
    opened = client.post(
        "/api/v1/wallet/disputes",
        json={"transaction_id": str(payment.id), "reason": "客户称未消费"},
        headers=_keyed(agent),
    )
    assert opened.status_code == 202  # a dispute this large waits to be opened as well
    assert opened.json()["action"] == "dispute"
    approval.decide(
        money.Money(db, build_wallet(settings)(db), settings),
        money.Asked(requester=Requester.of_staff(make_staff(db, "supervisor")), key="", reason=""),
        approval_id=opened.json()["id"],
        approve=True,
        reason=None,
    )
    db.commit()
    dispute_id = client.get(f"/api/v1/wallet/accounts/{account.id}/disputes", headers=agent).json()[
        0
    ]["id"]
    url = f"/api/v1/wallet/disputes/{dispute_id}/decision"
    step = client.post(url, json={"outcome": "investigating"}, headers=_keyed(specialist))
    assert step.status_code == 200
    upheld = client.post(
        url, json={"outcome": "upheld", "reason": "确认盗刷"}, headers=_keyed(specialist)
    )
    assert (upheld.status_code, upheld.json()["status"]) == (202, "upheld")
    refund_id = upheld.json()["refund_id"]
    held = client.get(f"/api/v1/wallet/accounts/{account.id}/refunds", headers=agent).json()
    assert [(r["id"], r["status"], r["amount"]) for r in held] == [
        (refund_id, "requested", "799.72")
    ]
    assert _approved_fen(db, payment.id) == 0
    # the specialist cannot approve the refund their decision filed; a supervisor can
    mine = client.post(
        f"/api/v1/wallet/refunds/{refund_id}/decision",
        json={"approve": True},
        headers=_keyed(specialist),
    )
    assert mine.status_code == 403
    decided = client.post(
        f"/api/v1/wallet/refunds/{refund_id}/decision",
        json={"approve": True},
        headers=_keyed(other_boss),
    )
    assert (decided.status_code, decided.json()["status"]) == (200, "approved")
    # decided now: the specialist still may not decide it, and hears that, not its state
    late = client.post(
        f"/api/v1/wallet/refunds/{refund_id}/decision",
        json={"approve": False, "reason": "再核实"},
        headers=_keyed(specialist),
    )
    assert late.status_code == 403, late.text


def test_a_dispute_opened_in_the_core_and_upheld_by_a_specialist_waits(
    client: TestClient, db: Session
) -> None:
    """A customer's own dispute (opened in the wallet app, not through Kefu) is guarded
    where the money moves: at the decision."""
    account = funded_account(db, "5000.00")
    payment = _pay(db, account.id, "799.72")
    dispute = refunds.open_dispute(db, movement_id=payment.id, reason="非本人操作", ctx=ctx())
    db.commit()
    specialist = _bearer(client, db, "specialist")
    url = f"/api/v1/wallet/disputes/{dispute.id}/decision"
    client.post(url, json={"outcome": "investigating"}, headers=_keyed(specialist))
    upheld = client.post(url, json={"outcome": "upheld"}, headers=_keyed(specialist))
    assert upheld.status_code == 202
    assert _approved_fen(db, payment.id) == 0
    request = db.scalars(select(ApprovalRequest)).one()
    assert (request.action, request.amount, request.payment_id) == (
        "refund",
        "799.72",
        str(payment.id),
    )


def test_a_small_dispute_upheld_is_refunded_at_once_and_counted(
    db: Session, settings: Settings
) -> None:
    account = funded_account(db, "5000.00")
    small, other = _pay(db, account.id, "300.00"), _pay(db, account.id, "300.00")
    specialist, m = _desk(db, settings, "specialist")
    for payment in (small, other):
        dispute = refunds.open_dispute(db, movement_id=payment.id, reason="未收货", ctx=ctx())
        money.decide_dispute(
            m, _asked(specialist), dispute_id=str(dispute.id), outcome="investigating"
        )
        money.decide_dispute(m, _asked(specialist), dispute_id=str(dispute.id), outcome="upheld")
    assert _approved_fen(db, small.id) == 300_00
    assert _approved_fen(db, other.id) == 0  # the day's 500.00 was used by the first
    assert [r.request.amount for r in approvals.pending(db)] == ["300.00"]


def test_the_same_person_is_refused_a_rejected_unfreeze_with_the_same_reason(
    db: Session, settings: Settings
) -> None:
    account = funded_account(db, "5000.00")
    accounts.freeze(db, account_id=account.id, reason="stolen", ctx=ctx())
    agent, m = _desk(db, settings)
    boss = make_staff(db, "supervisor")

    def ask(reason: str) -> ApprovalRequest:
        return support_account.request_unfreeze(m, _asked(agent, reason), account_id=account.id)

    first = ask("客户说手机找回来了")
    approval.decide(m, _asked(boss, ""), approval_id=first.id, approve=False, reason="未核实本人")
    with pytest.raises(RejectedBefore):
        ask("客户说手机找回来了。")
    assert ask("客户已到营业厅核实本人身份").status == "pending"
