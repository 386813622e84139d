"""Every console support action has a staff API twin with the same permission and the
same approval behaviour: the test walks them in pairs."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import make_staff, staff_token
from tests.integration.wallet.wallet_helpers import card_of, ctx, funded_account

from kefu.channels.senders import build_senders
from kefu.config import Settings
from kefu.identity import service as identity_service
from kefu.identity.models import Customer
from kefu.support import actions
from kefu.wallet import accounts, flows, ledger
from kefu.wallet.port import build_wallet

API = "/api/v1/wallet"
TWINS = {
    "unlock": f"{API}/accounts/{{account_id}}/unlock",
    "password_reset": f"{API}/accounts/{{account_id}}/password-reset",
    "freeze": f"{API}/accounts/{{account_id}}/freeze",
    "unfreeze": f"{API}/accounts/{{account_id}}/unfreeze",
    "refund": f"{API}/refunds",
    "dispute": f"{API}/disputes",
    "trace_topup": f"{API}/transactions/{{transaction_id}}/trace",
    "trace_transfer": f"{API}/transactions/{{transaction_id}}/trace",
    "trace_withdrawal": f"{API}/transactions/{{transaction_id}}/trace",
}


def _permission(app: FastAPI, path: str) -> str | None:
    route = next(
        context.route
        for context in iter_route_contexts(app.routes)
        if isinstance(context.route, APIRoute)
        and context.path == path
        and "POST" in (context.route.methods or set())
    )
    found: list[str] = []
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        if getattr(dependant.call, "kefu_permission", None):
            found.append(dependant.call.kefu_permission)  # type: ignore[union-attr]
        stack.extend(dependant.dependencies)
    assert len(set(found)) == 1, (path, found)
    return found[0]


def test_every_console_action_has_an_api_twin_with_its_permission(app: FastAPI) -> None:
    assert set(TWINS) == set(actions.PERMISSION)
    for action, path in TWINS.items():
        assert _permission(app, path) == actions.PERMISSION[action], action


def _holder(db: Session) -> Customer:
    account = funded_account(db, "5000.00")
    return identity_service.create_customer(
        db,
        wallet_account_id=account.id,
        name="王芳",
        phone=f"+86139{uuid.uuid4().int % 10**8:08d}",
    )


def _pay(db: Session, customer: Customer, amount: str, outcome: str) -> str:
    payment = flows.pay(
        db,
        account_id=customer.wallet_account_id,
        merchant="京东",
        amount_fen=ledger.to_fen(amount),
        currency="CNY",
        outcome=outcome,
        ctx=ctx(),
    )
    return str(payment.id)


def _top_up(db: Session, customer: Customer) -> str:
    account = customer.wallet_account_id
    top_up = flows.start_top_up(
        db,
        account_id=account,
        card_id=card_of(db, account).id,
        amount_fen=200_00,
        currency="CNY",
        ctx=ctx(),
    )
    return str(top_up.id)


def _frozen(db: Session, customer: Customer) -> dict[str, Any]:
    accounts.freeze(db, account_id=customer.wallet_account_id, reason="stolen", ctx=ctx())
    return {}


def _locked(db: Session, customer: Customer) -> dict[str, Any]:
    for _ in range(5):
        accounts.record_login(
            db, account_id=customer.wallet_account_id, succeeded=False, device="iPhone", city="上海"
        )
    return {}


Setup = Callable[[Session, Customer], dict[str, Any]]
# each case: the console action, how to prepare the account, the form's fields, and the
# API call that is its twin (path fields, JSON body)
CASES: list[tuple[str, str, Setup]] = [
    (
        "refund small",
        "refund",
        lambda db, c: {"transaction_id": _pay(db, c, "120.00", "succeeded")},
    ),
    (
        "refund large",
        "refund",
        lambda db, c: {"transaction_id": _pay(db, c, "1288.00", "succeeded")},
    ),
    (
        "return small",
        "refund",
        lambda db, c: {"transaction_id": _pay(db, c, "88.00", "deducted_failed")},
    ),
    (
        "return large",
        "refund",
        lambda db, c: {"transaction_id": _pay(db, c, "1288.00", "deducted_failed")},
    ),
    (
        "dispute small",
        "dispute",
        lambda db, c: {"transaction_id": _pay(db, c, "60.00", "succeeded")},
    ),
    (
        "dispute large",
        "dispute",
        lambda db, c: {"transaction_id": _pay(db, c, "799.72", "succeeded")},
    ),
    ("unfreeze", "unfreeze", lambda db, c: _frozen(db, c)),
    ("unlock", "unlock", lambda db, c: _locked(db, c)),
    ("freeze", "freeze", lambda db, c: {"freeze_reason": "stolen"}),
    ("password reset", "password_reset", lambda db, c: {}),
    ("trace", "trace_topup", lambda db, c: {"transaction_id": _top_up(db, c)}),
]


def _api_waits(
    settings: Settings,
    client: TestClient,
    agent: dict[str, str],
    action: str,
    customer: Customer,
    fields: dict[str, Any],
    db: Session,
) -> bool:
    tid = fields.get("transaction_id", "")
    reason = {"reason": "客户来电要求"}
    if action == "refund":
        status = build_wallet(settings)(db).get_transaction(tid).status
        if status == "deducted_failed":
            path, body = f"{API}/transactions/{tid}/reverse", reason
        else:
            path, body = (
                f"{API}/refunds",
                {**reason, "transaction_id": tid, "amount": fields["amount"]},
            )
    elif action == "dispute":
        path, body = f"{API}/disputes", {**reason, "transaction_id": tid}
    elif action == "freeze":
        path, body = (
            TWINS[action].format(account_id=customer.wallet_account_id),
            {"reason": "stolen"},
        )
    elif action.startswith("trace_"):
        path, body = TWINS[action].format(transaction_id=tid), reason
    else:
        path, body = TWINS[action].format(account_id=customer.wallet_account_id), reason
    answer = client.post(path, json=body, headers={**agent, "Idempotency-Key": uuid.uuid4().hex})
    assert answer.status_code in (200, 201, 202), (action, answer.text)
    waits: bool = answer.status_code == 202
    return waits


@pytest.mark.parametrize(("label", "action", "setup"), CASES, ids=[c[0] for c in CASES])
def test_the_twins_wait_for_a_supervisor_alike(
    client: TestClient, db: Session, settings: Settings, label: str, action: str, setup: Setup
) -> None:
    waits = []
    agent_user = make_staff(db, "agent")
    agent = {"Authorization": f"Bearer {staff_token(client, db, 'agent')}"}
    for surface in ("console", "api"):
        customer = _holder(db)
        fields = setup(db, customer)
        if action == "refund":
            payment = build_wallet(settings)(db).get_transaction(fields["transaction_id"])
            fields["amount"] = f"{payment.amount:.2f}"
        db.commit()
        if surface == "console":
            outcome = actions.perform(
                db,
                build_wallet(settings)(db),
                customer=customer,
                staff=agent_user,
                request=actions.SupportRequest(
                    action=action, key=uuid.uuid4().hex, reason="客户来电要求", **fields
                ),
                settings=settings,
                senders=build_senders(settings),
            )
            db.commit()
            waits.append(outcome.waiting)
        else:
            waits.append(_api_waits(settings, client, agent, action, customer, fields, db))
    assert waits[0] == waits[1], (label, waits)
    assert waits[0] == (label.endswith("large") or action == "unfreeze"), (label, waits)
