"""Resolved contacts built through the real services, for the survey and review tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import STAFF_PASSWORD

from kefu import audit
from kefu.cases import conversation as case_conversation
from kefu.cases import service as cases_service
from kefu.cases.models import Case
from kefu.config import Settings
from kefu.identity import service as identity_service
from kefu.identity.models import Customer, StaffUser
from kefu.quality import events
from kefu.quality.models import QualityContact, QualitySurvey

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
MINUTE = timedelta(minutes=1)


def staff_actor(user: StaffUser) -> audit.Actor:
    return audit.Actor(name=f"staff:{user.username}", role=user.role)


def resolved_case(
    db: Session,
    settings: Settings,
    *,
    customer: Customer,
    agent: StaffUser,
    channel: str = "sms",
    category: str = "refund",
    now: datetime = T0,
) -> Case:
    """A case opened by the customer, answered and resolved by ``agent`` ten minutes later."""
    case = cases_service.open_case(
        db,
        new=cases_service.NewCase(
            customer_id=customer.id,
            category=category,
            channel=channel,
            subject="退款还没到",
            description="退款三天了还没到账",
        ),
        actor=audit.Actor(name=f"customer:{customer.id}", role="customer"),
        settings=settings,
        now=now,
    )
    case_conversation.staff_reply(
        db,
        case,
        body="正在为您查询",
        actor=staff_actor(agent),
        settings=settings,
        now=now + 5 * MINUTE,
    )
    case_conversation.resolve(
        db,
        case,
        summary="退款已到账",
        actor=staff_actor(agent),
        settings=settings,
        now=now + 10 * MINUTE,
    )
    return case


def resolved_call(
    db: Session, *, customer: Customer, agent: StaffUser, call_sid: str, now: datetime = T0
) -> None:
    """A call answered by ``agent`` after a short wait and resolved five minutes in."""
    for kind, seconds, staff_id in (
        ("contact_arrived", 0, None),
        ("queued", 10, None),
        ("answered_by_agent", 30, agent.id),
        ("resolved", 300, None),
    ):
        events.record(
            db,
            kind,
            channel="phone",
            call_sid=call_sid,
            at=now + timedelta(seconds=seconds),
            staff_id=staff_id,
            customer_id=customer.id,
            category="refund",
        )


def survey_of_case(db: Session, case: Case) -> QualitySurvey:
    survey = db.scalar(select(QualitySurvey).where(QualitySurvey.case_id == case.id))
    assert survey is not None
    return survey


def contact_of(db: Session, survey: QualitySurvey) -> QualityContact:
    contact = db.get(QualityContact, survey.contact_id)
    assert contact is not None
    return contact


def console_login(client: TestClient, db: Session, user: StaffUser) -> str:
    """Sign in to the console as ``user``; returns the session's CSRF token for forms."""
    client.cookies.set("kefu_login_csrf", "login-token", path="/console")
    response = client.post(
        "/console/login",
        data={"username": user.username, "password": STAFF_PASSWORD, "csrf_token": "login-token"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    session = client.cookies.get("kefu_session")
    assert session is not None
    record = identity_service.resolve_token(db, session, kinds={"session"})
    assert record is not None and record.csrf_token is not None
    return record.csrf_token
