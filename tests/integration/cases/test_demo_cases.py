"""The demo's cases: right after ``make run`` the agent's workspace has work in its views,
and the customers with a scripted problem are left for the assistant."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.integration.web.web_helpers import csrf

from kefu import demo
from kefu.cases import demo as cases_demo
from kefu.cases.models import Case
from kefu.config import Settings
from kefu.db import utcnow
from kefu.identity import service as identity_service
from kefu.identity.models import Customer


def test_demo_cases_fill_the_views_and_leave_the_scripted_customers_alone(
    db: Session, settings: Settings, client: TestClient
) -> None:
    demo.seed(db, history=False)
    assert cases_demo.seed_cases(db, settings=settings, now=utcnow()) == len(cases_demo.DEMO_CASES)
    assert cases_demo.seed_cases(db, settings=settings, now=utcnow()) == 0  # once

    cases = list(db.scalars(select(Case)))
    phones = set(
        db.scalars(select(Customer.phone).where(Customer.id.in_(c.customer_id for c in cases)))
    )
    scripted = {f"+86138000000{n:02d}" for n in range(1, 12)}
    assert phones and not phones & scripted

    agent = identity_service.get_staff_by_username(db, "agent")
    assert agent is not None
    statuses = {(c.status, c.owner_id == agent.id) for c in cases}
    assert ("new", False) in statuses  # unassigned
    assert ("open", True) in statuses  # mine
    assert ("pending_customer", True) in statuses  # waiting
    assert ("resolved", True) in statuses
    replied = [c for c in cases if c.status == "pending_customer"]
    assert all(c.first_responded_at is not None for c in replied)

    form = client.get("/console/login")
    signed_in = client.post(
        "/console/login",
        data={"username": "agent", "password": "kefu-agent-demo", "csrf_token": csrf(form.text)},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    page = client.get("/console/cases?view=unassigned")
    assert page.status_code == 200
    unassigned = [c for c in cases if c.owner_id is None]
    assert all(c.reference in page.text for c in unassigned)
    waiting = client.get("/console/cases?view=waiting")
    assert "等待客户回复" in waiting.text and "等待您的回复" not in waiting.text
