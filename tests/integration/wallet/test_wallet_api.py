from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import staff_token
from tests.integration.wallet.wallet_helpers import ctx, funded_account

from kefu.approvals import service as approvals_service
from kefu.audit import AuditEvent
from kefu.identity import service as identity_service
from kefu.wallet import accounts, flows, refunds


def _token(client: TestClient, db: Session, role: str) -> dict[str, str]:
    identity_service.create_staff(db, username=f"w_{role}", password="long-enough-pw", role=role)
    db.commit()
    response = client.post(
        "/api/v1/auth/token", json={"username": f"w_{role}", "password": "long-enough-pw"}
    )
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_agent_looks_up_and_freezes_idempotently(client: TestClient, db: Session) -> None:
    account = funded_account(db, "500.00")
    account.phone = "13899990001"
    db.commit()
    agent = _token(client, db, "agent")
    found = client.get("/api/v1/wallet/accounts", params={"phone": "13899990001"}, headers=agent)
    assert found.status_code == 200
    assert found.json()["balance"] == "500.00"
    assert found.json()["phone_masked"] == "138****0001"
    assert found.json()["cards"][0]["masked_number"] == "**** **** **** 1234"
    moves = client.get(
        f"/api/v1/wallet/accounts/{account.id}/transactions",
        params={"kind": "topup", "min_amount": "500.00"},
        headers=agent,
    )
    assert [m["amount"] for m in moves.json()] == ["500.00"]
    url = f"/api/v1/wallet/accounts/{account.id}/freeze"
    assert client.post(url, json={"reason": "stolen"}, headers=agent).status_code == 422
    keyed = {**agent, "Idempotency-Key": "freeze-1"}
    first = client.post(url, json={"reason": "stolen"}, headers=keyed, params={"case": "C-1"})
    again = client.post(url, json={"reason": "stolen"}, headers=keyed, params={"case": "C-1"})
    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == "frozen"
    other = client.post(url, json={"reason": "risk"}, headers=keyed)
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_conflict"
    rows = db.scalars(select(AuditEvent).where(AuditEvent.action == "wallet.freeze")).all()
    assert [(r.actor, r.case_reference) for r in rows] == [("staff:w_agent", "C-1")]
    unfreeze = f"/api/v1/wallet/accounts/{account.id}/unfreeze"
    asked = client.post(
        unfreeze, json={"reason": "本人已核实"}, headers={**agent, "Idempotency-Key": "u1"}
    )
    assert (asked.status_code, asked.json()["status"]) == (202, "pending")  # an agent only asks
    decided = client.post(f"{unfreeze}/decision", json={"approve": True}, headers=agent)
    assert decided.status_code == 403


def test_unfreezing_through_the_api_takes_a_second_supervisor(
    client: TestClient, db: Session
) -> None:
    """The same four-eyes rule as the console: the API files the unfreeze in the approval
    queue, the supervisor who asked cannot approve it, and the account stays frozen until
    another supervisor does."""
    account = funded_account(db, "10.00")
    accounts.freeze(db, account_id=account.id, reason="stolen", ctx=ctx())
    db.commit()
    asker, other, agent = (
        {"Authorization": f"Bearer {staff_token(client, db, role)}"}
        for role in ("supervisor", "supervisor", "agent")
    )
    url = f"/api/v1/wallet/accounts/{account.id}/unfreeze"
    keyed = {**asker, "Idempotency-Key": "unfreeze-1"}
    assert client.post(url, json={}, headers=keyed).status_code == 422  # a reason is needed
    filed = client.post(url, json={"reason": "本人已到柜台核实"}, headers=keyed)
    again = client.post(url, json={"reason": "本人已到柜台核实"}, headers=keyed)
    assert filed.status_code == again.status_code == 202, filed.text
    assert (filed.json()["action"], filed.json()["status"]) == ("unfreeze", "pending")
    assert again.json()["id"] == filed.json()["id"]
    assert [r.request.id for r in approvals_service.pending(db)] == [filed.json()["id"]]

    def status() -> str:
        found = client.get(f"/api/v1/wallet/accounts/{account.id}", headers=asker)
        value: str = found.json()["status"]
        return value

    assert status() == "frozen"
    own = client.post(f"{url}/decision", json={"approve": True}, headers=asker)
    assert own.status_code == 403
    assert own.json()["error"]["code"] == "approval_own_request"
    assert client.post(f"{url}/decision", json={"approve": True}, headers=agent).status_code == 403
    assert status() == "frozen"
    approved = client.post(f"{url}/decision", json={"approve": True}, headers=other)
    repeated = client.post(f"{url}/decision", json={"approve": True}, headers=other)
    assert approved.status_code == repeated.status_code == 200, approved.text
    assert approved.json()["status"] == status() == "active"
    late = client.post(
        f"{url}/decision", json={"approve": False, "reason": "不同意"}, headers=agent
    )
    assert late.status_code == 403  # who may not decide is told so, decided or not
    rows = db.scalars(
        select(AuditEvent).where(AuditEvent.action.in_(("wallet.unfreeze", "approval.approved")))
    ).all()
    assert len(rows) == 2 and len({r.actor for r in rows}) == 1  # once, by the approver
    not_frozen = client.post(
        url, json={"reason": "再解冻一次"}, headers={**asker, "Idempotency-Key": "unfreeze-2"}
    )
    assert not_frozen.status_code == 409
    assert not_frozen.json()["error"]["code"] == "illegal_transition"
    nothing = client.post(
        "/api/v1/wallet/accounts/W-none/unfreeze/decision", json={"approve": True}, headers=other
    )
    assert nothing.status_code == 404
    assert nothing.json()["error"]["code"] == "approval_not_found"


def test_large_refund_decision_needs_a_supervisor(client: TestClient, db: Session) -> None:
    account = funded_account(db, "2000.00")
    payment = flows.pay(
        db,
        account_id=account.id,
        merchant="携程",
        amount_fen=1500_00,
        currency="CNY",
        outcome="succeeded",
        ctx=ctx(),
    )
    refund = refunds.create_refund(
        db, payment_id=payment.id, amount_fen=1500_00, reason="取消", ctx=ctx()
    )
    db.commit()
    url = f"/api/v1/wallet/refunds/{refund.id}/decision"
    agent = {**_token(client, db, "agent"), "Idempotency-Key": "d1"}
    supervisor = {**_token(client, db, "supervisor"), "Idempotency-Key": "d2"}
    # an agent's approval of a refund above the limit asks a supervisor instead
    asked = client.post(url, json={"approve": True}, headers=agent)
    assert (asked.status_code, asked.json()["status"]) == (202, "requested")
    assert [r.request.target_id for r in approvals_service.pending(db)] == [str(refund.id)]
    decided = client.post(url, json={"approve": True}, headers=supervisor)
    assert decided.status_code == 200
    assert (decided.json()["status"], decided.json()["amount"]) == ("approved", "1500.00")
    assert approvals_service.pending(db) == []


def test_bad_input_is_a_clear_4xx(client: TestClient, db: Session) -> None:
    account = funded_account(db, "10.00")
    db.commit()
    agent = _token(client, db, "agent")
    no_key = client.post(f"/api/v1/wallet/accounts/{account.id}/password-reset", headers=agent)
    assert no_key.status_code == 422
    missing = client.get("/api/v1/wallet/accounts/W-none", headers=agent)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "wallet_not_found"
    float_amount = client.post(
        "/api/v1/wallet/refunds",
        headers={**agent, "Idempotency-Key": "r"},
        json={"transaction_id": "1", "amount": 1.5, "reason": "x"},
    )
    assert float_amount.status_code == 422
    assert client.get(f"/api/v1/wallet/accounts/{account.id}").status_code == 401
