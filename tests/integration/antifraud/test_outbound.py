"""Genuine outbound calls end to end: an agent records the call, the customer (verified)
asks "is someone from you calling me?" and hears the truth; a spoofed number, another
customer, a cancelled or finished call all get "no one from us is calling you"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import customer_token, make_customer, make_staff, staff_token
from tests.integration.cases.case_helpers import make_case

from kefu import audit
from kefu.antifraud import service
from kefu.audit import AuditEvent
from kefu.config import Settings
from kefu.db import utcnow
from kefu.errors import InvalidInput


def test_customer_confirms_a_real_call(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    customer = make_customer(seeded, language="en")
    case = make_case(seeded, settings, customer_id=customer.id)
    agent = {"Authorization": f"Bearer {staff_token(client, seeded, 'agent')}"}
    created = client.post(
        "/api/v1/antifraud/outbound-calls",
        json={
            "customer_id": customer.id,
            "reason": "your top-up of 100 yuan",
            "case_reference": case.reference,
        },
        headers=agent,
    )
    assert created.status_code == 201, created.text
    call = created.json()
    assert call["caller_number"] == "021 6080 9595"  # the registry's outbound number
    mine = {"Authorization": f"Bearer {customer_token(seeded, customer)}"}
    answer = client.get("/api/v1/antifraud/calling-me", headers=mine).json()
    assert answer["calling"] is True
    assert case.reference in answer["message"] and call["agent_number"] in answer["message"]
    assert answer["calls"][0]["reason"] == "your top-up of 100 yuan"
    # the number on the customer's screen is ours: yes; another number: hang up
    same = client.get(
        "/api/v1/antifraud/calling-me", params={"number": "+86 21 6080 9595"}, headers=mine
    ).json()
    assert same["calling"] is True
    spoofed = client.get(
        "/api/v1/antifraud/calling-me", params={"number": "17012345678"}, headers=mine
    ).json()
    assert spoofed["calling"] is False and "hang up" in spoofed["message"]
    # another customer is told no one is calling
    stranger = {
        "Authorization": f"Bearer {customer_token(seeded, make_customer(seeded, language='en'))}"
    }
    other = client.get("/api/v1/antifraud/calling-me", headers=stranger).json()
    assert other == {"calling": False, "message": other["message"], "calls": []}
    assert "No one from us" in other["message"]
    # cancelled: no longer confirmed
    assert (
        client.post(
            f"/api/v1/antifraud/outbound-calls/{call['public_id']}/cancel", headers=agent
        ).status_code
        == 200
    )
    assert client.get("/api/v1/antifraud/calling-me", headers=mine).json()["calling"] is False
    actions = seeded.scalars(
        select(AuditEvent.action).where(AuditEvent.customer_id == customer.id)
    ).all()
    assert {"antifraud.outbound.register", "antifraud.outbound.cancel"} <= set(actions)


def test_the_window_and_its_grace(seeded: Session, settings: Settings) -> None:
    customer = make_customer(seeded)
    staff = make_staff(seeded)
    now = utcnow()
    service.register_outbound_call(
        seeded,
        staff_id=staff.id,
        agent_name="客服 张敏",
        customer_id=customer.id,
        reason="核实您的退款申请",
        minutes=30,
        actor=audit.Actor(name=f"staff:{staff.username}", role="agent"),
        now=now,
    )
    grace = timedelta(minutes=settings.antifraud_call_grace_minutes)
    assert service.outbound_calls_for(seeded, customer.id, now + timedelta(minutes=29))
    assert service.outbound_calls_for(seeded, customer.id, now + timedelta(minutes=30) + grace)
    assert not service.outbound_calls_for(seeded, customer.id, now + timedelta(minutes=31) + grace)
    yes = service.confirm_call(seeded, customer.id, lang="zh-CN", now=now + timedelta(minutes=5))
    assert yes.calling and "客服 张敏" in yes.message and "核实您的退款申请" in yes.message
    no = service.confirm_call(seeded, customer.id, lang="zh-CN", now=now + timedelta(hours=2))
    assert not no.calling and "挂断" in no.message


def test_calls_only_from_official_numbers_and_about_the_customers_own_case(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    customer, other = make_customer(seeded), make_customer(seeded)
    others_case = make_case(seeded, settings, customer_id=other.id)
    agent = {"Authorization": f"Bearer {staff_token(client, seeded, 'agent')}"}
    base = {"customer_id": customer.id, "reason": "回访"}
    assert (
        client.post(
            "/api/v1/antifraud/outbound-calls",
            json={**base, "caller_number": "13800138000"},
            headers=agent,
        ).status_code
        == 400
    )
    assert (
        client.post(
            "/api/v1/antifraud/outbound-calls",
            json={**base, "case_reference": others_case.reference},
            headers=agent,
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/api/v1/antifraud/outbound-calls", json={**base, "minutes": 1}, headers=agent
        ).status_code
        == 400
    )
    assert (
        client.post(
            "/api/v1/antifraud/outbound-calls", json={**base, "customer_id": 999999}, headers=agent
        ).status_code
        == 404
    )
    ok = client.post(
        "/api/v1/antifraud/outbound-calls", json={**base, "caller_number": "95099"}, headers=agent
    )
    assert ok.status_code == 201 and ok.json()["caller_number"] == "95099"
    listed = client.get(
        "/api/v1/antifraud/outbound-calls", params={"customer_id": customer.id}, headers=agent
    ).json()
    assert [c["public_id"] for c in listed] == [ok.json()["public_id"]]


def test_no_outbound_number_in_the_registry(db: Session) -> None:
    customer, staff = make_customer(db), make_staff(db)
    with pytest.raises(InvalidInput):
        service.register_outbound_call(
            db,
            staff_id=staff.id,
            agent_name="x",
            customer_id=customer.id,
            reason="回访",
            actor=audit.Actor.system(),
        )
