"""Escalation by hand and by the scheduler, follow-up reminders, progress and auto-close,
all on a clock the test controls."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import make_staff
from tests.integration.cases.case_helpers import AGENT, T0, make_case

from kefu import audit
from kefu.cases import conversation, escalation, followup, service, timeline
from kefu.cases.errors import EscalationNotPossible
from kefu.cases.models import CaseNotification
from kefu.cases.transitions import Status
from kefu.channels import outbox
from kefu.channels.senders import build_senders
from kefu.config import Settings

H = timedelta(hours=1)


def _notes(db: Session, case_id: int) -> list[CaseNotification]:
    return list(db.scalars(select(CaseNotification).where(CaseNotification.case_id == case_id)))


def test_manual_escalation_needs_a_reason_and_a_higher_tier(
    db: Session, settings: Settings
) -> None:
    case = make_case(db, settings)
    specialist = make_staff(db, "specialist")
    supervisor = make_staff(db, "supervisor")
    with pytest.raises(EscalationNotPossible):
        escalation.escalate(db, case, to_tier="tier1", reason="x", actor=AGENT, now=T0)
    escalation.escalate(
        db,
        case,
        to_tier="tier2",
        reason="需要技术排查",
        actor=AGENT,
        owner_username=specialist.username,
        now=T0,
    )
    assert (case.tier, case.owner_id, case.escalation_count) == ("tier2", specialist.id, 1)
    told = {(n.recipient, n.staff_user_id) for n in _notes(db, case.id)}
    assert ("owner", specialist.id) in told and ("supervisor", supervisor.id) in told
    row = audit.list_events(db, case_reference=case.reference, action="case.escalate")[0]
    assert "需要技术排查" in (row.after or "")


def test_scheduler_warns_then_escalates_once_per_step(db: Session, settings: Settings) -> None:
    owner = make_staff(db, "agent")
    make_staff(db, "supervisor")
    case = make_case(db, settings)  # first response 1 h, resolution 24 h
    service.assign(db, case, owner_username=owner.username, actor=AGENT, now=T0)
    assert escalation.run_scan(db, settings=settings, now=T0 + timedelta(minutes=47)).warned == []
    at_risk = escalation.run_scan(db, settings=settings, now=T0 + timedelta(minutes=48))  # 80 %
    assert at_risk.warned == [case.reference] and at_risk.escalated == [case.reference]
    assert case.tier == "tier2" and case.owner_id == owner.id
    again = escalation.run_scan(db, settings=settings, now=T0 + timedelta(minutes=50))
    assert again.warned == again.breached == []
    late = escalation.run_scan(db, settings=settings, now=T0 + H)
    assert late.breached == [case.reference] and case.tier == "supervisor"
    assert case.first_response_breached_at == T0 + H
    kinds = sorted({n.kind for n in _notes(db, case.id)})
    assert kinds == ["assignment", "first_response_at_risk", "first_response_breached"]
    assert service.list_cases(db, flt=service.CaseFilter(breached=True), now=T0 + H) == [case]
    top = escalation.run_scan(db, settings=settings, now=T0 + timedelta(days=1))
    assert top.breached == [case.reference] and top.escalated == []  # already at the top


def test_alerts_say_what_was_done_escalated_or_nothing_at_the_top_tier(
    db: Session, settings: Settings
) -> None:
    """Each recipient reads, in their language, where the case went; at the top tier the
    alert says nothing could be escalated instead of claiming it was."""
    owner = make_staff(db, "agent")
    english = make_staff(db, "supervisor")
    english.language = "en"
    case = make_case(db, settings)
    service.assign(db, case, owner_username=owner.username, actor=AGENT, now=T0)
    escalation.run_scan(db, settings=settings, now=T0 + timedelta(minutes=48))
    escalation.run_scan(db, settings=settings, now=T0 + H)
    assert case.tier == "supervisor"
    before = {n.id for n in _notes(db, case.id)}
    escalation.run_scan(db, settings=settings, now=T0 + timedelta(days=1))
    by_staff = {n.staff_user_id: n.body for n in _notes(db, case.id) if n.id not in before}
    assert by_staff[owner.id] == (
        f"工单 {case.reference} 的解决时限已超时，工单已在最高层级（主管），"
        "无法再自动升级，未做任何改动，请主管立即处理。"
    )
    assert "already at the top tier (Supervisor)" in by_staff[english.id]
    assert "escalated automatically" not in by_staff[english.id]
    for body in by_staff.values():
        assert "已自动升级" not in body
    earlier = [
        n.body
        for n in _notes(db, case.id)
        if n.staff_user_id == owner.id and n.kind != "assignment"
    ]
    assert earlier[0].endswith("已自动升级到二线/技术支持。")
    assert earlier[1].endswith("已自动升级到主管。")
    last_sla = [e for e in timeline.events(db, case) if e.kind == "sla"][-1]
    assert last_sla.body is not None and "未升级" in last_sla.body


def test_answered_case_is_not_chased_for_first_response(db: Session, settings: Settings) -> None:
    case = make_case(db, settings)
    conversation.staff_reply(
        db,
        case,
        body="在查",
        actor=AGENT,
        settings=settings,
        now=T0 + 10 * 60 * timedelta(seconds=1),
    )
    assert escalation.run_scan(db, settings=settings, now=T0 + 2 * H).warned == []


def test_paused_case_is_not_escalated_while_waiting_on_the_customer(
    db: Session, settings: Settings
) -> None:
    case = make_case(db, settings)
    conversation.staff_reply(
        db,
        case,
        body="请补充信息",
        actor=AGENT,
        settings=settings,
        then=Status.PENDING_CUSTOMER,
        now=T0 + 0.5 * H,
    )
    report = escalation.run_scan(db, settings=settings, now=T0 + timedelta(days=3))
    assert report.breached == [] and report.warned == []


def test_sweep_reminds_owner_sends_progress_and_closes_resolved(
    db: Session, settings: Settings
) -> None:
    senders = build_senders(settings)
    owner = make_staff(db, "agent")
    waiting = make_case(db, settings, category="transfer_not_arrived")  # 48 h, progress 24 h
    service.assign(db, waiting, owner_username=owner.username, actor=AGENT, now=T0)
    conversation.staff_reply(
        db,
        waiting,
        body="已提交银行查询",
        actor=AGENT,
        settings=settings,
        then=Status.PENDING_THIRD_PARTY,
        now=T0,
    )
    done = make_case(db, settings, category="login_failed")
    conversation.resolve(db, done, summary="已重置", actor=AGENT, settings=settings, now=T0)

    report = followup.sweep(db, settings=settings, senders=senders, now=T0 + 25 * H)
    assert report.reminded == [waiting.reference]
    assert waiting.reference in report.progress_sent
    assert report.closed == []
    sms = [m for m in outbox.latest(db, limit=50) if m.purpose == "case_update"]
    assert any(waiting.reference in m.body for m in sms)

    quiet = followup.sweep(db, settings=settings, senders=senders, now=T0 + 26 * H)
    assert quiet.reminded == [] and waiting.reference not in quiet.progress_sent

    closing = followup.sweep(db, settings=settings, senders=senders, now=T0 + timedelta(days=8))
    assert closing.closed == [done.reference] and done.status == "closed"


def test_bank_answer_reopens_and_tells_the_customer(db: Session, settings: Settings) -> None:
    senders = build_senders(settings)
    case = make_case(db, settings)
    conversation.staff_reply(
        db,
        case,
        body="已提交银行查询",
        actor=AGENT,
        settings=settings,
        then=Status.PENDING_THIRD_PARTY,
        now=T0,
    )
    followup.third_party_answered(
        db, case, summary="银行已确认入账", settings=settings, senders=senders, now=T0 + 2 * H
    )
    assert case.status == "open"
    progress = [n for n in _notes(db, case.id) if n.kind == "progress"]
    assert len(progress) == 1 and "银行已确认入账" in progress[0].body
