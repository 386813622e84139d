"""Deciding an approval is one support command (``kefu.support.approval.decide``): the
console's queue page, the staff API's ``POST /api/v1/wallet/approvals/{id}/decision`` and,
for a refund, ``POST /api/v1/wallet/refunds/{id}/decision`` give the same answers, and
leave the same traces, for the same decisions. Who may decide is asked first: someone who
may not is refused (403) whether the request waits or was decided already."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import STAFF_PASSWORD, make_staff
from tests.integration.approvals.test_support_actions import _audit
from tests.integration.cases.case_helpers import make_case
from tests.integration.wallet.wallet_helpers import ctx, funded_account
from tests.integration.web.web_helpers import csrf, sign_in

from kefu.approvals.models import ApprovalRequest
from kefu.cases import timeline
from kefu.cases.models import Case
from kefu.channels.senders import build_senders
from kefu.config import Settings
from kefu.identity import service as identity_service
from kefu.identity.models import Customer, StaffUser
from kefu.support import actions
from kefu.wallet import flows, ledger
from kefu.wallet.models import Refund
from kefu.wallet.port import build_wallet

SURFACES = ("console", "api", "refund")


@dataclass
class Surface:
    """One way a staff member decides: the console's queue form, the staff API's approval
    decision or its refund decision (the refund the request is for)."""

    name: str
    app: FastAPI
    db: Session

    def decide(self, staff: StaffUser, approval_id: int, *, approve: bool, reason: str = "") -> str:
        """``ok``, ``forbidden``, ``own``, ``decided`` or ``invalid``, whatever the surface."""
        with TestClient(self.app, raise_server_exceptions=False) as client:
            if self.name == "console":
                sign_in(client, staff.username)
                page = client.get("/console?lang=en")
                answer = client.post(
                    f"/console/approvals/{approval_id}/decision?lang=en",
                    data={
                        "decision": "approve" if approve else "reject",
                        "reason": reason,
                        "csrf_token": csrf(page.text),
                    },
                    follow_redirects=False,
                )
                if answer.status_code == 303:
                    return "ok"
                own = "you cannot approve your own request" in answer.text
                if answer.status_code == 409:  # the decision in words, never its stored code
                    assert re.search(r"already been (approved|rejected)", answer.text)
                return _kind(answer.status_code, own)
            token = client.post(
                "/api/v1/auth/token", json={"username": staff.username, "password": STAFF_PASSWORD}
            ).json()["access_token"]
            path = f"/api/v1/wallet/approvals/{approval_id}/decision"
            headers = {"Authorization": f"Bearer {token}"}
            if self.name == "refund":  # a command like any other: it carries a key
                request = self.db.get(ApprovalRequest, approval_id)
                assert request is not None and request.action == "refund"
                path = f"/api/v1/wallet/refunds/{request.target_id}/decision"
                headers["Idempotency-Key"] = uuid.uuid4().hex
            answer = client.post(
                path, json={"approve": approve, "reason": reason or None}, headers=headers
            )
            if answer.status_code == 200:
                assert answer.json()["status"] == ("approved" if approve else "rejected")
                return "ok"
            own = answer.json()["error"]["code"] == "approval_own_request"
            if answer.status_code == 409:
                assert "now:" not in answer.json()["error"]["message"]
            return _kind(answer.status_code, own)


def _kind(status: int, own: bool) -> str:
    if status in (400, 422):
        return "invalid"
    if status == 403:
        return "own" if own else "forbidden"
    assert status == 409, status
    return "decided"


@pytest.fixture(params=SURFACES)
def surface(request: pytest.FixtureRequest, app: FastAPI, db: Session) -> Iterator[Surface]:
    yield Surface(request.param, app, db)


@dataclass
class Waiting:
    approval: ApprovalRequest
    refund: Refund
    case: Case
    customer: Customer


def _large_refund(db: Session, settings: Settings, requester: StaffUser) -> Waiting:
    """A refund above the approval amount, asked for on a case: it waits in the queue."""
    account = funded_account(db, "5000.00")
    customer = identity_service.create_customer(
        db,
        wallet_account_id=account.id,
        name="赵敏",
        phone=f"+86138{uuid.uuid4().int % 10**8:08d}",
    )
    case = make_case(db, settings, customer_id=customer.id)
    payment = flows.pay(
        db,
        account_id=account.id,
        merchant="京东",
        amount_fen=ledger.to_fen("1288.00"),
        currency="CNY",
        outcome="succeeded",
        ctx=ctx(),
    )
    outcome = actions.perform(
        db,
        build_wallet(settings)(db),
        customer=customer,
        staff=requester,
        request=actions.SupportRequest(
            action="refund",
            key=uuid.uuid4().hex,
            reason="商户重复扣款",
            case_reference=case.reference,
            transaction_id=str(payment.id),
        ),
        settings=settings,
        senders=build_senders(settings),
    )
    db.commit()
    approval = db.get(ApprovalRequest, outcome.approval_id)
    assert approval is not None
    refund = db.scalars(select(Refund).where(Refund.payment_id == payment.id)).one()
    return Waiting(approval, refund, case, customer)


def _noted(db: Session, case: Case) -> list[tuple[str, Any]]:
    db.expire_all()
    return [
        (timeline.event_data(e)["action"], e.visibility)
        for e in timeline.events(db, case)
        if e.kind == "action"
    ]


def _staff(db: Session, role: str) -> StaffUser:
    user = make_staff(db, role)
    db.commit()
    return user


def test_an_approval_is_decided_alike_on_every_surface(
    surface: Surface, db: Session, settings: Settings
) -> None:
    asker, boss, other_boss = (_staff(db, "supervisor") for _ in range(3))
    agent = _staff(db, "agent")
    waiting = _large_refund(db, settings, asker)
    approval_id = waiting.approval.id
    assert _noted(db, waiting.case) == [("approval.requested", timeline.PUBLIC)]

    assert surface.decide(agent, approval_id, approve=True) == "forbidden"
    assert surface.decide(asker, approval_id, approve=True) == "own"
    db.expire_all()
    assert db.get(ApprovalRequest, approval_id).status == "pending"  # type: ignore[union-attr]
    assert db.get(Refund, waiting.refund.id).status == "requested"  # type: ignore[union-attr]

    # a double-submitted form: one decision, one wallet action, one audit row, one note
    assert surface.decide(boss, approval_id, approve=True, reason="核实") == "ok"
    assert surface.decide(boss, approval_id, approve=True, reason="核实") == "ok"
    db.expire_all()
    decided = db.get(ApprovalRequest, approval_id)
    assert decided is not None
    assert (decided.status, decided.decided_by_id) == ("approved", boss.id)
    assert db.get(Refund, waiting.refund.id).status == "approved"  # type: ignore[union-attr]
    assert len(_audit(db, "approval.approved")) == 1
    assert len(_audit(db, "wallet.refund.decide")) == 1
    assert _noted(db, waiting.case) == [
        ("approval.requested", timeline.PUBLIC),
        ("approval.approved", timeline.PUBLIC),
    ]

    # a decided request is not decided again, by anyone, either way; who may not decide
    # it hears that, not that it is decided
    assert surface.decide(agent, approval_id, approve=True) == "forbidden"
    assert surface.decide(agent, approval_id, approve=False, reason="再想想") == "forbidden"
    assert surface.decide(boss, approval_id, approve=False, reason="再想想") == "decided"
    assert surface.decide(other_boss, approval_id, approve=True) == "decided"
    assert len(_audit(db, "approval.approved")) == 1
    assert len(_audit(db, "approval.rejected")) == 0


def test_a_rejection_sticks_on_every_surface(
    surface: Surface, db: Session, settings: Settings
) -> None:
    asker, boss, other_boss = (_staff(db, "supervisor") for _ in range(3))
    waiting = _large_refund(db, settings, asker)
    approval_id = waiting.approval.id

    assert surface.decide(boss, approval_id, approve=False, reason="") == "invalid"  # why?
    assert surface.decide(boss, approval_id, approve=False, reason="商户未确认") == "ok"
    assert surface.decide(boss, approval_id, approve=False, reason="商户未确认") == "ok"
    assert surface.decide(other_boss, approval_id, approve=True) == "decided"
    assert surface.decide(_staff(db, "agent"), approval_id, approve=True) == "forbidden"
    db.expire_all()
    assert db.get(ApprovalRequest, approval_id).status == "rejected"  # type: ignore[union-attr]
    assert db.get(Refund, waiting.refund.id).status == "rejected"  # type: ignore[union-attr]
    assert len(_audit(db, "approval.rejected")) == 1
    assert len(_audit(db, "approval.approved")) == 0
    assert _noted(db, waiting.case) == [
        ("approval.requested", timeline.PUBLIC),
        ("approval.rejected", timeline.PUBLIC),
    ]
