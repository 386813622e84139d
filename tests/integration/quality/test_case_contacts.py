"""What the cases domain reports: a case opened by e-mail is a contact; a case opened in a
chat is not a second one; first reply, escalation, resolution and reopening count on it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories import make_customer, make_staff
from tests.integration.quality.helpers import MINUTE, T0, resolved_case, staff_actor

from kefu.cases import conversation as case_conversation
from kefu.cases import escalation
from kefu.cases import service as cases_service
from kefu.chat import service as chat_service
from kefu.config import Settings
from kefu.quality import events
from kefu.quality.models import ContactEvent, QualityContact


def _contact_of_case(db: Session, case_id: int) -> QualityContact:
    found = list(db.scalars(select(QualityContact).where(QualityContact.case_id == case_id)))
    assert len(found) == 1, found
    return found[0]


def test_a_case_counts_once_with_its_outcomes(db: Session, settings: Settings) -> None:
    customer, agent = make_customer(db), make_staff(db)
    case = resolved_case(db, settings, customer=customer, agent=agent, channel="email")
    contact = _contact_of_case(db, case.id)
    assert contact.key == f"case:{case.id}" and contact.channel == "email"
    assert contact.arrived_at == T0 and contact.first_reply_at == T0 + 5 * MINUTE
    assert contact.resolved_at == T0 + 10 * MINUTE and contact.within_sla is True
    assert contact.staff_id == agent.id and contact.case_reference == case.reference
    case_conversation.customer_message(
        db, case, body="又没到账", channel="email", settings=settings, now=T0 + 20 * MINUTE
    )
    assert contact.reopens == 1 and contact.resolved_at is None


def test_escalations_and_a_missed_commitment(db: Session, settings: Settings) -> None:
    customer, agent = make_customer(db), make_staff(db)
    case = cases_service.open_case(
        db,
        new=cases_service.NewCase(
            customer_id=customer.id, category="account_locked", channel="app", subject="锁了"
        ),
        actor=staff_actor(agent),
        settings=settings,
        now=T0,
    )
    escalation.escalate(
        db, case, to_tier="tier2", reason="需要技术支持", actor=staff_actor(agent), now=T0 + MINUTE
    )
    contact = _contact_of_case(db, case.id)
    assert contact.escalations == 1 and contact.within_sla is None
    assert case.first_response_due_at is not None
    escalation.run_scan(db, settings=settings, now=case.first_response_due_at + MINUTE)
    assert contact.escalations == 2 and contact.within_sla is False
    reasons = [
        e.data["reason"]
        for e in db.scalars(
            select(ContactEvent).where(
                ContactEvent.contact_id == contact.id, ContactEvent.kind == "escalated"
            )
        )
    ]
    assert reasons == ["manual", "sla_breach"]


def test_a_case_opened_in_a_chat_merges_into_the_chat(db: Session, settings: Settings) -> None:
    customer, agent = make_customer(db), make_staff(db)
    conversation = chat_service.start(db, channel="web", language="zh-CN", customer_id=customer.id)
    events.record(
        db,
        "contact_arrived",
        channel="web",
        conversation_id=conversation.id,
        customer_id=customer.id,
        at=T0,
    )
    case = cases_service.open_case(
        db,
        new=cases_service.NewCase(
            customer_id=customer.id, category="refund", channel="chat", subject="退款"
        ),
        actor=staff_actor(agent),
        settings=settings,
        now=T0 + 3 * MINUTE,
    )
    assert db.scalar(select(func.count()).select_from(QualityContact)) == 2
    # the chat's next event names the case: the two are one contact from then on
    events.record(
        db,
        "first_reply",
        channel="web",
        conversation_id=conversation.id,
        case_id=case.id,
        staff_id=agent.id,
        at=T0 + 4 * MINUTE,
    )
    contact = _contact_of_case(db, case.id)
    assert contact.key == f"conv:{conversation.id}" and contact.started_at == T0
    assert contact.category == "refund" and contact.case_reference == case.reference
    assert db.scalar(select(func.count()).select_from(QualityContact)) == 1
    case_conversation.resolve(
        db,
        case,
        summary="已退",
        actor=staff_actor(agent),
        settings=settings,
        now=T0 + timedelta(hours=1),
    )
    assert contact.resolved_at == T0 + timedelta(hours=1)


def test_a_chat_about_an_older_case_is_a_repeat(db: Session, settings: Settings) -> None:
    customer, agent = make_customer(db), make_staff(db)
    case = resolved_case(db, settings, customer=customer, agent=agent, channel="email")
    first = _contact_of_case(db, case.id)
    conversation = chat_service.start(db, channel="app", language="zh-CN", customer_id=customer.id)
    events.record(
        db,
        "contact_arrived",
        channel="app",
        conversation_id=conversation.id,
        case_id=case.id,
        customer_id=customer.id,
        at=T0 + timedelta(days=2),
    )
    assert first.followed_by_repeat is True
    second = db.scalar(
        select(QualityContact).where(QualityContact.key == f"conv:{conversation.id}")
    )
    assert second is not None and second.is_repeat is True


def test_cases_at_risk_and_late_for_the_live_view(db: Session, settings: Settings) -> None:
    customer, agent = make_customer(db), make_staff(db)
    before = cases_service.count_sla_at_risk(db, now=T0 + timedelta(days=400))
    case = cases_service.open_case(
        db,
        new=cases_service.NewCase(
            customer_id=customer.id, category="account_locked", channel="app", subject="锁了"
        ),
        actor=staff_actor(agent),
        settings=settings,
        now=T0 + timedelta(days=400),
    )
    assert case.first_response_warn_at is not None and case.first_response_due_at is not None
    warned = cases_service.count_sla_at_risk(db, now=case.first_response_warn_at + MINUTE)
    late = cases_service.count_sla_at_risk(db, now=case.first_response_due_at + MINUTE)
    assert warned[0] - before[0] == 1 and warned[1] == before[1]
    assert late[1] - before[1] == 1
