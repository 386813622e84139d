"""The agent's customer view and the supervisors' approval queue, through the real app:
masking, actions through the wallet port, idempotent forms, four eyes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories import make_staff, staff_token
from tests.integration.approvals.test_support_actions import _audit
from tests.integration.cases.case_helpers import make_case
from tests.integration.wallet.wallet_helpers import ctx, funded_account
from tests.integration.web.web_helpers import csrf, form_fields, sign_in

from kefu.approvals.models import ApprovalRequest
from kefu.cases import timeline
from kefu.identity import service as identity_service
from kefu.identity.models import Customer, StaffUser
from kefu.wallet import flows, ledger
from kefu.wallet.models import Movement, Refund, WalletAccount


@pytest.fixture
def holder(db: Session) -> tuple[Customer, WalletAccount]:
    account = funded_account(db, "3000.00")
    account.phone = "13912345678"
    customer = identity_service.create_customer(
        db,
        wallet_account_id=account.id,
        name="王芳",
        phone="+8613912345678",
        email=f"wf{uuid.uuid4().hex[:6]}@example.com",
    )
    db.commit()
    return customer, account


@pytest.fixture
def second(app: FastAPI) -> Iterator[TestClient]:
    """A second browser: another staff member signed in at the same time."""
    with TestClient(app, raise_server_exceptions=False) as other:
        yield other


def _pay(db: Session, account: WalletAccount, amount: str, outcome: str) -> Movement:
    movement = flows.pay(
        db,
        account_id=account.id,
        merchant="美团外卖",
        amount_fen=ledger.to_fen(amount),
        currency="CNY",
        outcome=outcome,
        ctx=ctx(),
    )
    db.commit()
    return movement


def _staff(db: Session, role: str) -> StaffUser:
    user = make_staff(db, role)
    db.commit()
    return user


def _act(client: TestClient, customer: Customer, fields: dict[str, str], **more: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"/console/customers/{customer.id}/actions",
        data={**fields, "reason": "客户来电，核实无误", **more},
        follow_redirects=False,
    )


def test_the_view_masks_numbers_and_shows_the_history(
    client: TestClient, db: Session, holder: tuple[Customer, WalletAccount], settings
) -> None:
    customer, _ = holder
    case = make_case(db, settings, customer_id=customer.id)
    db.commit()
    sign_in(client, _staff(db, "agent").username)
    page = client.get(f"/console/customers/{customer.id}?lang=zh-CN")
    assert page.status_code == 200
    assert "139****5678" in page.text
    assert "13912345678" not in page.text
    assert "**** **** **** 1234" in page.text
    assert "3,000.00" in page.text
    assert case.reference in page.text
    assert "尚未做过身份验证" in page.text
    assert client.get("/console/customers/999999").status_code == 404


def test_a_double_submitted_refund_form_refunds_once(
    client: TestClient, db: Session, holder: tuple[Customer, WalletAccount]
) -> None:
    customer, account = holder
    payment = _pay(db, account, "120.00", "succeeded")
    sign_in(client, _staff(db, "agent").username)
    page = client.get(f"/console/customers/{customer.id}")
    fields = form_fields(page.text, "refund", str(payment.id))
    first = _act(client, customer, fields)
    again = _act(client, customer, fields)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    refunds = db.scalars(select(Refund).where(Refund.payment_id == payment.id)).all()
    assert [(r.status, r.amount_fen) for r in refunds] == [("approved", 120_00)]
    done = client.get(first.headers["location"] + "&lang=en")
    assert "Done: Refund" in done.text


def test_a_large_reversal_waits_for_another_supervisor(
    client: TestClient,
    second: TestClient,
    db: Session,
    holder: tuple[Customer, WalletAccount],
) -> None:
    customer, account = holder
    payment = _pay(db, account, "1288.00", "deducted_failed")
    balance = account.balance_fen
    requester = _staff(db, "supervisor")
    sign_in(client, requester.username)
    page = client.get(f"/console/customers/{customer.id}")
    fields = form_fields(page.text, "refund", str(payment.id))
    response = _act(client, customer, fields)
    assert response.status_code == 303
    assert "approval=" in response.headers["location"]
    _act(client, customer, fields)  # the same form again
    approval = db.scalars(select(ApprovalRequest)).one()
    assert approval.action == "reverse_payment"
    waiting = client.get(response.headers["location"] + "&lang=zh-CN")
    assert "主管批准后才会执行" in waiting.text

    own = client.get("/console/approvals?lang=zh-CN")
    assert "须由另一位主管审批" in own.text
    refused = client.post(
        f"/console/approvals/{approval.id}/decision",
        data={"decision": "approve", "csrf_token": csrf(own.text)},
    )
    assert refused.status_code == 403
    db.refresh(account)
    assert account.balance_fen == balance

    sign_in(second, _staff(db, "supervisor").username)
    queue = second.get("/console/approvals")
    assert f"/console/approvals/{approval.id}/decision" in queue.text
    for _ in range(2):  # a double click on approve
        decided = second.post(
            f"/console/approvals/{approval.id}/decision",
            data={
                "decision": "approve",
                "reason": "核实商户未出货",
                "csrf_token": csrf(queue.text),
            },
            follow_redirects=False,
        )
        assert decided.status_code == 303
    db.refresh(account)
    assert account.balance_fen == balance + 1288_00
    assert len(_audit(db, "wallet.reverse_payment")) == 1
    assert len(_audit(db, "approval.approved")) == 1


def test_agents_have_no_approval_queue_and_forms_need_csrf(
    client: TestClient, db: Session, holder: tuple[Customer, WalletAccount]
) -> None:
    customer, _ = holder
    sign_in(client, _staff(db, "agent").username)
    assert client.get("/console/approvals").status_code == 403
    forged = client.post(
        f"/console/customers/{customer.id}/actions",
        data={"action": "password_reset", "key": "k-1", "reason": "x", "csrf_token": "forged"},
    )
    assert forged.status_code == 403


def test_a_refused_action_shows_why_on_the_page(
    client: TestClient, db: Session, holder: tuple[Customer, WalletAccount]
) -> None:
    customer, _ = holder
    sign_in(client, _staff(db, "agent").username)
    page = client.get(f"/console/customers/{customer.id}?lang=zh-CN")
    fields = form_fields(page.text, "freeze")
    no_reason = _act(client, customer, fields, reason="", freeze_reason="stolen")
    assert no_reason.status_code == 400
    assert 'role="alert"' in no_reason.text
    frozen = _act(client, customer, fields, freeze_reason="stolen")
    assert frozen.status_code == 303
    page = client.get(f"/console/customers/{customer.id}")
    assert 'value="unfreeze"' in page.text and 'value="freeze"' not in page.text


def test_a_large_api_refund_joins_the_queue_under_four_eyes(
    client: TestClient, db: Session, holder: tuple[Customer, WalletAccount]
) -> None:
    _, account = holder
    payment = _pay(db, account, "900.00", "succeeded")
    boss = {"Authorization": f"Bearer {staff_token(client, db, 'supervisor')}"}
    created = client.post(
        "/api/v1/wallet/refunds",
        json={"transaction_id": str(payment.id), "amount": "900.00", "reason": "航班取消"},
        headers={**boss, "Idempotency-Key": "api-refund-1"},
    )
    assert (created.status_code, created.json()["status"]) == (202, "requested")
    assert db.scalar(select(func.count()).select_from(ApprovalRequest)) == 1
    url = f"/api/v1/wallet/refunds/{created.json()['id']}/decision"
    own = client.post(url, json={"approve": True}, headers={**boss, "Idempotency-Key": "d-1"})
    assert own.status_code == 403
    assert own.json()["error"]["code"] == "approval_own_request"
    other = {"Authorization": f"Bearer {staff_token(client, db, 'supervisor')}"}
    decided = client.post(url, json={"approve": True}, headers={**other, "Idempotency-Key": "d-2"})
    assert decided.status_code == 200
    assert decided.json()["status"] == "approved"
    assert db.scalars(select(ApprovalRequest)).one().status == "approved"


def test_a_console_action_with_a_case_is_noted_on_it_once(
    client: TestClient, db: Session, holder: tuple[Customer, WalletAccount], settings
) -> None:
    """The note is the support layer's, as for the staff API's twin: one per form."""
    customer, account = holder
    case = make_case(db, settings, customer_id=customer.id)
    payment = _pay(db, account, "60.00", "succeeded")
    sign_in(client, _staff(db, "agent").username)
    page = client.get(f"/console/customers/{customer.id}")
    refund = form_fields(page.text, "refund", str(payment.id))
    freeze = form_fields(page.text, "freeze")
    for _ in range(2):  # a resent form is noted once
        done = _act(client, customer, refund, case_reference=case.reference)
        assert done.status_code == 303
    frozen = _act(
        client, customer, freeze, case_reference=case.reference, freeze_reason="customer_request"
    )
    assert frozen.status_code == 303
    db.expire_all()
    notes = [e for e in timeline.events(db, case) if e.kind == "action"]
    assert [timeline.event_data(e)["action"] for e in notes] == ["wallet.refund", "wallet.freeze"]
    told = [e.body for e in notes if e.visibility == timeline.PUBLIC]
    assert told[0] == "您的退款 60.00 元已批准，将退回您的钱包。"
