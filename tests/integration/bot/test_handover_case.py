"""Chat and case as one piece of work: the case a hand-over opens names the problem the
customer described (category and subject from their words and the facts collected, never
"person please"), accepting the chat assigns the case, the agent's first reply is the
case's first response, ending the chat sets the case's status and sends the customer a
written summary, and the customer's case page shows the chat as messages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import make_staff
from tests.integration.quality.helpers import console_login

from kefu import audit
from kefu.app import create_app
from kefu.cases import timeline, tracking
from kefu.cases.models import Case, CaseNotification
from kefu.channels.models import OutboxMessage
from kefu.channels.senders import build_senders
from kefu.chat import live, routing
from kefu.chat.routing_models import WorkItem
from kefu.config import Settings
from kefu.db import get_db
from kefu.quality import qa
from kefu.quality.models import QualityContactRef
from kefu.wallet.port import build_wallet

from .conftest import Chat, phone_of


@pytest.fixture
def chat(service_chat: Chat) -> Chat:
    """The assistant called directly: after the hand-over these tests work the chat through
    the live-chat services, on the same session and clock."""
    return service_chat


def handed_over(chat: Chat) -> tuple[Case, WorkItem]:
    assert chat.conversation is not None and chat.conversation.case_id is not None
    case = chat.db.get(Case, chat.conversation.case_id)
    item = routing.open_item(chat.db, conversation_id=chat.conversation.id)
    assert case is not None and item is not None
    return case, item


def test_a_top_up_chat_handed_over_names_the_top_up(chat: Chat) -> None:
    chat.say("我充值了500块钱一直没到账")
    chat.verify(2)
    chat.say("还是没到账")  # an unsure guess (transfer?) must not rename the problem
    turn = chat.say("转人工")
    assert turn.handoff
    case, item = handed_over(chat)
    assert case.category == item.category == "recharge_not_credited"
    assert case.subject == "充值没到账：我充值了500块钱一直没到账（¥500.00）"
    assert item.context["facts"]["amount"] == "500.00"


def test_payment_failed_then_person_opens_a_case_about_the_payment(chat: Chat) -> None:
    chat.say("支付失败但是钱被扣了")
    chat.verify(4)
    assert chat.conversation is not None and chat.conversation.case_id is None
    chat.say("转人工")
    case, item = handed_over(chat)
    assert case.category == item.category == "payment_failed"
    assert case.subject.startswith("支付失败/扣款异常：支付失败但是钱被扣了")
    assert "转人工" not in case.subject and "智能客服" not in case.subject


def test_only_person_please_says_the_problem_is_not_yet_described(chat: Chat) -> None:
    chat.lang = "en"
    chat.say("I want to talk to a human")
    assert chat.conversation is not None
    item = routing.open_item(chat.db, conversation_id=chat.conversation.id)
    assert item is not None and item.category == "other"


def test_accept_reply_and_end_work_the_case_and_send_the_summary(
    chat: Chat, settings: Settings
) -> None:
    db: Session = chat.db
    chat.say("支付失败但是钱被扣了")
    chat.verify(4)
    chat.say("转人工")
    case, item = handed_over(chat)
    assert (case.status, case.owner_id, case.first_responded_at) == ("new", None, None)
    agent = make_staff(db, "agent")
    routing.set_presence(db, agent, "online", settings=settings, now=chat.now)
    db.refresh(item)
    assert item.offered_to_id == agent.id
    live.accept(db, item, agent, settings=settings, now=chat.now)
    assert case.owner_id == agent.id

    conversation = chat.conversation
    assert conversation is not None
    live.agent_says(db, conversation, agent, "客户已验证，需查商户", internal=True, now=chat.now)
    assert case.first_responded_at is None  # a note is not an answer
    live.agent_says(db, conversation, agent, "您好，我来帮您查这笔扣款。", now=chat.now)
    assert case.first_responded_at == chat.now and case.status == "open"
    live.customer_says(
        db,
        conversation,
        "好的，谢谢",
        settings=settings,
        senders=build_senders(settings),
        wallet=build_wallet(settings)(db),
        now=chat.now,
    )

    drafts = live.summary_drafts(db, conversation, settings=settings)
    assert case.reference in drafts["waiting"] and "等您回复" in drafts["waiting"]
    edited = drafts["waiting"] + "\n请把商户订单截图回复给我们。"
    live.end_chat(
        db,
        conversation,
        agent,
        outcome="waiting",
        summary_text=edited,
        settings=settings,
        senders=build_senders(settings),
        now=chat.now,
    )
    db.flush()
    assert case.status == "pending_customer" and conversation.status == "closed"
    sent = db.scalars(
        select(OutboxMessage.body).where(OutboxMessage.destination == "+86" + phone_of(4))
    ).all()
    assert sent[-1] == edited  # by SMS, as the agent left it
    assert db.scalar(
        select(CaseNotification.id).where(
            CaseNotification.case_id == case.id, CaseNotification.kind == "summary"
        )
    )

    events = timeline.events(db, case)
    notes = [e.body for e in events if e.kind == "note"]
    assert notes == ["客户已验证，需查商户"]
    seen = tracking.track(
        db, customer_id=case.customer_id, reference=case.reference, settings=settings, lang="zh-CN"
    )
    said = [(e.author, e.body) for e in seen.timeline if e.kind == "message"]
    assert ("you", "支付失败但是钱被扣了") in said
    assert ("staff", "您好，我来帮您查这笔扣款。") in said
    assert ("you", "好的，谢谢") in said
    assert any(author == "assistant" for author, _ in said)
    bodies = " ".join(e.body or "" for e in seen.timeline)
    assert "[bot]" not in bodies and "[customer]" not in bodies
    assert "需查商户" not in bodies  # the internal note stays inside
    assert edited in bodies  # the summary stays on the case


def test_ending_solved_resolves_and_open_keeps_the_case_worked(
    chat: Chat, settings: Settings
) -> None:
    db = chat.db
    chat.say("支付失败但是钱被扣了")
    chat.verify(4)
    chat.say("转人工")
    case, item = handed_over(chat)
    agent = make_staff(db, "agent")
    routing.set_presence(db, agent, "online", settings=settings, now=chat.now)
    db.refresh(item)
    live.accept(db, item, agent, settings=settings, now=chat.now)
    conversation = chat.conversation
    assert conversation is not None
    live.end_chat(
        db,
        conversation,
        agent,
        outcome="open",
        settings=settings,
        senders=build_senders(settings),
        now=chat.now,
    )
    assert case.status == "open"
    bodies = [e.body or "" for e in timeline.events(db, case) if e.kind == "notification"]
    assert any("最晚于" in body and case.reference in body for body in bodies)


def test_qa_review_of_the_chat_shows_the_conversation_and_links_the_case(
    chat: Chat, settings: Settings
) -> None:
    db = chat.db
    chat.say("支付失败但是钱被扣了")
    chat.verify(4)
    chat.say("转人工")
    case, item = handed_over(chat)
    agent = make_staff(db, "agent")
    routing.set_presence(db, agent, "online", settings=settings, now=chat.now)
    db.refresh(item)
    live.accept(db, item, agent, settings=settings, now=chat.now)
    conversation = chat.conversation
    assert conversation is not None
    live.agent_says(db, conversation, agent, "您好，我来帮您查这笔扣款。", now=chat.now)
    live.agent_says(db, conversation, agent, "商户超时，需退款", internal=True, now=chat.now)
    live.end_chat(
        db,
        conversation,
        agent,
        outcome="open",
        settings=settings,
        senders=build_senders(settings),
        now=chat.now,
    )
    db.commit()
    contact_id = db.scalar(
        select(QualityContactRef.contact_id).where(
            QualityContactRef.ref == f"conv:{conversation.id}"
        )
    )
    assert contact_id is not None
    boss = make_staff(db, "supervisor")
    review = qa.add_contact(
        db, contact_id=contact_id, actor=audit.Actor(name="staff:x", role="supervisor")
    )
    db.commit()
    app = create_app(settings)

    def _db() -> Iterator[Session]:
        yield db

    app.dependency_overrides[get_db] = _db
    with TestClient(app) as client:
        console_login(client, db, boss)
        page = client.get(f"/console/quality/reviews/{review.id}").text
    assert f'<a href="/console/cases/{case.reference}">{case.reference}</a>' in page
    for said in ("支付失败但是钱被扣了", "您好，我来帮您查这笔扣款。", "商户超时，需退款"):
        assert said in page
    assert "内部备注" in page and "【客服小结】" in page
