"""The support layer's own rules, whatever surface asks: who may ask for what (an emergency
freeze before any verification; an unfreeze only by staff), the case note every action
leaves once, and tracing a transfer as well as a top-up."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import make_staff, staff_token
from tests.integration.cases.case_helpers import make_case
from tests.integration.wallet.wallet_helpers import ctx, funded_account

from kefu import audit
from kefu.approvals import service as approvals_service
from kefu.approvals.errors import OwnRequest
from kefu.audit import AuditEvent
from kefu.cases import service as cases_service
from kefu.cases import timeline
from kefu.cases.models import Case
from kefu.channels.senders import build_senders
from kefu.config import Settings
from kefu.errors import InvalidInput, PermissionDenied
from kefu.identity import service as identity_service
from kefu.identity.models import Customer, StaffUser
from kefu.notifications import service as notifications
from kefu.support import account, money, trace
from kefu.support.requester import Requester
from kefu.wallet import accounts, flows, ledger
from kefu.wallet.errors import WalletNotFound
from kefu.wallet.models import Movement, WalletAccount
from kefu.wallet.port import build_wallet


def _holder(db: Session, balance: str = "3000.00") -> tuple[WalletAccount, Customer]:
    wallet_account = funded_account(db, balance)
    customer = identity_service.create_customer(
        db,
        wallet_account_id=wallet_account.id,
        name="王芳",
        phone=f"+86136{uuid.uuid4().int % 10**8:08d}",
    )
    return wallet_account, customer


def _desk(db: Session, settings: Settings) -> money.Money:
    return money.Money(db, build_wallet(settings)(db), settings)


def _by(staff: StaffUser, **fields: object) -> money.Asked:
    return money.Asked(
        requester=Requester.of_staff(staff), key=uuid.uuid4().hex, reason="客户来电", **fields
    )  # type: ignore[arg-type]


def _emergency(**fields: object) -> money.Asked:
    return money.Asked(
        requester=Requester.in_emergency(audit.Actor("assistant:chat:test", "assistant")),
        key=uuid.uuid4().hex,
        reason="账户被盗",
        **fields,
    )  # type: ignore[arg-type]


def _actions(db: Session, case: Case) -> list[str]:
    return [
        timeline.event_data(e)["action"] for e in timeline.events(db, case) if e.kind == "action"
    ]


def _audit(db: Session, action: str) -> list[AuditEvent]:
    db.commit()  # audit rows are written when their transaction commits
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _pay(db: Session, account_id: str, amount: str) -> Movement:
    return flows.pay(
        db,
        account_id=account_id,
        merchant="京东商城",
        amount_fen=ledger.to_fen(amount),
        currency="CNY",
        outcome="succeeded",
        ctx=ctx(),
    )


def _transfer(db: Session, account_id: str, amount: str) -> Movement:
    payee = funded_account(db)
    return flows.transfer(
        db,
        account_id=account_id,
        to_account_id=payee.id,
        amount_fen=ledger.to_fen(amount),
        currency="CNY",
        ctx=ctx(),
        hold=True,
    )


def test_an_emergency_requester_may_freeze_and_nothing_else(
    db: Session, settings: Settings
) -> None:
    wallet_account, customer = _holder(db)
    payment = _pay(db, wallet_account.id, "80.00")
    case = make_case(db, settings, customer_id=customer.id, category="account_stolen")
    m = _desk(db, settings)
    asked = _emergency(customer_id=customer.id, case_reference=case.reference)
    view = account.freeze(m, asked, account_id=wallet_account.id, reason="stolen")
    assert view.status == "frozen"
    frozen = _audit(db, "wallet.freeze")
    assert [(e.actor_role, e.customer_id, e.case_reference) for e in frozen] == [
        ("assistant", customer.id, case.reference)
    ]
    assert _actions(db, case) == ["wallet.freeze"]  # the case note, written by the layer
    for refused in (
        lambda: account.unlock(m, _emergency(), account_id=wallet_account.id),
        lambda: account.start_password_reset(m, _emergency(), account_id=wallet_account.id),
        lambda: account.request_unfreeze(m, _emergency(), account_id=wallet_account.id),
        lambda: money.refund(m, _emergency(), payment_id=str(payment.id), amount=None),
        lambda: money.open_dispute(m, _emergency(), payment_id=str(payment.id)),
        lambda: trace.trace(
            m, _emergency(), transaction_id=str(payment.id), senders=build_senders(settings)
        ),
    ):
        with pytest.raises(PermissionDenied):
            refused()
    assert m.wallet.list_refunds(wallet_account.id) == []
    assert m.wallet.list_disputes(wallet_account.id) == []


def test_an_unfreeze_is_asked_by_staff_and_decided_by_another(
    db: Session, settings: Settings
) -> None:
    wallet_account, customer = _holder(db)
    accounts.freeze(db, account_id=wallet_account.id, reason="stolen", ctx=ctx())
    m = _desk(db, settings)
    agent, boss = make_staff(db, "agent"), make_staff(db, "supervisor")
    with pytest.raises(InvalidInput):  # tied to the holder, never to another customer
        account.request_unfreeze(
            m, _by(agent, customer_id=_holder(db)[1].id), account_id=wallet_account.id
        )
    asked = _by(agent, customer_id=customer.id)
    filed = account.request_unfreeze(m, asked, account_id=wallet_account.id)
    assert account.request_unfreeze(m, asked, account_id=wallet_account.id).id == filed.id
    assert m.wallet.get_account(wallet_account.id).status == "frozen"
    with pytest.raises(PermissionDenied):  # an agent holds no wallet.unfreeze
        account.decide_unfreeze(
            m, _by(agent), account_id=wallet_account.id, approve=True, reason=None
        )
    second, _ = _holder(db)
    accounts.freeze(db, account_id=second.id, reason="risk", ctx=ctx())
    account.request_unfreeze(m, _by(boss), account_id=second.id)
    with pytest.raises(OwnRequest):  # a supervisor never approves their own request
        account.decide_unfreeze(m, _by(boss), account_id=second.id, approve=True, reason=None)
    decided = account.decide_unfreeze(
        m,
        _by(make_staff(db, "supervisor")),
        account_id=wallet_account.id,
        approve=True,
        reason=None,
    )
    assert decided.status == "approved"
    assert m.wallet.get_account(wallet_account.id).status == "active"


def test_a_request_filed_twice_or_joined_is_audited_and_announced_once(
    db: Session, settings: Settings
) -> None:
    """Filing is the support layer's: the queue only stores the request, and
    ``support.approval.file_request`` writes its one audit row, tells each supervisor once
    and notes the case once, however often the request is asked for."""
    wallet_account, customer = _holder(db)
    accounts.freeze(db, account_id=wallet_account.id, reason="stolen", ctx=ctx())
    case = make_case(db, settings, customer_id=customer.id)
    m = _desk(db, settings)
    agent, boss = make_staff(db, "agent"), make_staff(db, "supervisor")
    asked = _by(agent, customer_id=customer.id, case_reference=case.reference)
    filed = account.request_unfreeze(m, asked, account_id=wallet_account.id)
    assert account.request_unfreeze(m, asked, account_id=wallet_account.id).id == filed.id
    another = _by(make_staff(db, "agent"), case_reference=case.reference)
    assert account.request_unfreeze(m, another, account_id=wallet_account.id).id == filed.id
    rows = [r for r in _audit(db, "approval.requested") if r.case_reference == case.reference]
    assert [(r.actor, r.customer_id) for r in rows] == [(f"staff:{agent.username}", customer.id)]
    assert [n.kind for n in notifications.recent(db, boss.id)] == ["approval"]
    assert notifications.recent(db, agent.id) == []
    assert _actions(db, case) == ["approval.requested"]
    # the queue itself stores only: nothing audited or announced outside the layer
    second, _ = _holder(db)
    audited = len(_audit(db, "approval.requested"))
    stored = approvals_service.submit(
        db,
        key=uuid.uuid4().hex,
        action="unfreeze",
        wallet_account_id=second.id,
        target_id=second.id,
        amount=None,
        reason="客户来电",
        requester=agent,
        customer_id=None,
        case_reference=None,
    )
    assert stored.new and stored.request.status == "pending"
    assert len(_audit(db, "approval.requested")) == audited
    assert len(notifications.recent(db, boss.id)) == 1


def test_a_transfer_is_traced_on_a_case_once(db: Session, settings: Settings) -> None:
    wallet_account, customer = _holder(db)
    moved = _transfer(db, wallet_account.id, "1200.00")
    m = _desk(db, settings)
    asked = _by(make_staff(db, "agent"))
    reference = trace.trace(m, asked, transaction_id=str(moved.id), senders=build_senders(settings))
    assert (
        trace.trace(m, asked, transaction_id=str(moved.id), senders=build_senders(settings))
        == reference
    )  # a replay
    case = cases_service.get_case(db, reference)
    assert (case.customer_id, case.category) == (customer.id, "transfer_not_arrived")
    assert [(link.kind, link.external_id) for link in cases_service.links(db, case)] == [
        ("transaction", str(moved.id))
    ]
    assert [e.case_reference for e in _audit(db, "wallet.transfer.trace")] == [reference]
    assert _actions(db, case) == ["wallet.trace_transfer"]
    told = [e.body for e in timeline.events(db, case, public_only=True) if e.kind == "action"]
    assert told == ["我们已开始追查您 1200.00 元的转账，会尽快告诉您结果。"]
    # a later trace of the same transfer joins the open case
    assert (
        trace.trace(
            m, _by(make_staff(db)), transaction_id=str(moved.id), senders=build_senders(settings)
        )
        == reference
    )


def test_only_the_holders_top_ups_and_moves_out_are_traced(db: Session, settings: Settings) -> None:
    wallet_account, _ = _holder(db)
    _, other = _holder(db)
    payment = _pay(db, wallet_account.id, "50.00")
    moved = _transfer(db, wallet_account.id, "60.00")
    m = _desk(db, settings)
    agent = make_staff(db)
    with pytest.raises(InvalidInput):
        trace.trace(m, _by(agent), transaction_id=str(payment.id), senders=build_senders(settings))
    with pytest.raises(WalletNotFound):  # another customer's transfer answers as unknown
        trace.trace(
            m,
            _by(agent, customer_id=other.id),
            transaction_id=str(moved.id),
            senders=build_senders(settings),
        )
    assert _audit(db, "wallet.transfer.trace") == []


def _bearer(client: TestClient, db: Session, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {staff_token(client, db, role)}"}


def test_the_staff_api_notes_every_action_on_its_case_once(
    client: TestClient, db: Session, settings: Settings
) -> None:
    wallet_account, customer = _holder(db)
    payment = _pay(db, wallet_account.id, "120.00")
    second = _pay(db, wallet_account.id, "30.00")
    moved = _transfer(db, wallet_account.id, "90.00")
    case = make_case(db, settings, customer_id=customer.id)
    db.commit()
    agent = _bearer(client, db, "agent")
    key = {**agent, "Idempotency-Key": uuid.uuid4().hex}
    for _ in range(2):  # a retried call is noted once
        frozen = client.post(
            f"/api/v1/wallet/accounts/{wallet_account.id}/freeze",
            params={"case": case.reference},  # no customer_id: the holder's case
            json={"reason": "customer_request"},
            headers=key,
        )
        assert frozen.status_code == 200, frozen.text
    refunded = client.post(
        "/api/v1/wallet/refunds",
        params={"case": case.reference, "customer_id": customer.id},
        json={"transaction_id": str(payment.id), "amount": "120.00", "reason": "商家同意退款"},
        headers={**agent, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert refunded.status_code == 201, refunded.text
    traced = client.post(
        f"/api/v1/wallet/transactions/{moved.id}/trace",
        params={"case": case.reference},
        json={"reason": "客户说对方没收到"},
        headers={**agent, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert (traced.status_code, traced.json()) == (201, {"case_reference": case.reference})
    db.expire_all()
    assert _actions(db, case) == ["wallet.freeze", "wallet.refund", "wallet.trace_transfer"]
    told = [e.body for e in timeline.events(db, case, public_only=True) if e.kind == "action"]
    assert told[1] == "您的退款 120.00 元已批准，将退回您的钱包。"
    stranger = make_case(db, settings)  # another customer's case is refused, nothing done
    db.commit()
    refused = client.post(
        "/api/v1/wallet/refunds",
        params={"case": stranger.reference},
        json={"transaction_id": str(second.id), "amount": "30.00", "reason": "商家同意退款"},
        headers={**agent, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert refused.status_code == 404
    db.expire_all()
    assert _actions(db, stranger) == []
    assert len(build_wallet(settings)(db).list_refunds(wallet_account.id)) == 1
