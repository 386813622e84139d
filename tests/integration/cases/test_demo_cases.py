"""The demo's cases: right after ``make run`` the agent's workspace has work in its views,
and the customers with a scripted problem are left for the assistant."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.integration.web.web_helpers import csrf

from kefu import audit, demo
from kefu.cases import demo as cases_demo
from kefu.cases import notify
from kefu.cases.models import Case
from kefu.config import Settings
from kefu.db import utcnow
from kefu.identity import service as identity_service
from kefu.identity.models import Customer


def _sign_in_as_demo_agent(client: TestClient) -> None:
    form = client.get("/console/login")
    signed_in = client.post(
        "/console/login",
        data={"username": "agent", "password": "kefu-agent-demo", "csrf_token": csrf(form.text)},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303


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

    _sign_in_as_demo_agent(client)
    page = client.get("/console/cases?view=unassigned")
    assert page.status_code == 200
    unassigned = [c for c in cases if c.owner_id is None]
    assert all(c.reference in page.text for c in unassigned)
    waiting = client.get("/console/cases?view=waiting")
    assert "等待客户回复" in waiting.text and "等待您的回复" not in waiting.text


def test_the_timeline_names_who_each_notification_went_to(
    db: Session, settings: Settings, client: TestClient
) -> None:
    """An SLA alert tells the owner and a supervisor: two alike lines, each naming its person."""
    demo.seed(db, history=False)
    cases_demo.seed_cases(db, settings=settings, now=utcnow())
    cases = list(db.scalars(select(Case)))
    agent = identity_service.get_staff_by_username(db, "agent")
    assert agent is not None
    _sign_in_as_demo_agent(client)
    mine = next(c for c in cases if c.owner_id == agent.id and c.status == "open")
    supervisor = identity_service.get_staff_by_username(db, "supervisor")
    assert supervisor is not None
    for recipient, staff in (("owner", agent), ("supervisor", supervisor)):
        notify.notify_staff(
            db,
            mine,
            kind="first_response_breached",
            recipient=recipient,
            staff_user_id=staff.id,
            body=f"工单 {mine.reference} 的首次响应已超时。",
            now=utcnow(),
            actor=audit.Actor(name="system", role="system"),
        )
    db.flush()
    case_page = client.get(f"/console/cases/{mine.reference}").text
    assert f"发给 {agent.display_name}" in case_page
    assert f"发给 {supervisor.display_name}" in case_page
