"""Customers' replies join their case, on each surface a reply comes by: the SMS webhook
(the resolved-case SMS invites a reply), inbound mail through the real parser, and the
WeChat webhook after a verified chat about the case. Each reopens a resolved case and
notifies its owner; nobody else's case can be written into."""

from __future__ import annotations

import email.message
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import make_customer, make_staff
from tests.integration.cases.case_helpers import AGENT, make_case
from tests.integration.wechat.conftest import WeChat, client_for, wechat_settings
from twilio.request_validator import RequestValidator

from kefu import audit
from kefu.app import create_app
from kefu.cases import conversation, service, timeline
from kefu.cases.models import Case
from kefu.channels import outbox
from kefu.channels.senders import build_senders
from kefu.chat import service as chat
from kefu.config import Settings, get_settings
from kefu.db import get_db, utcnow
from kefu.identity.models import Customer, StaffUser
from kefu.inbound.email import intake
from kefu.inbound.wechat.models import WeChatFollower
from kefu.notifications import service as notifications

TOKEN = "test-sms-carrier-token"
BASE = "https://sms.kefu.example"


@pytest.fixture
def sms(db: Session, settings: Settings) -> Iterator[TestClient]:
    signed = settings.model_copy(update={"voice_auth_token": TOKEN, "voice_public_url": BASE})
    application: FastAPI = create_app(signed)

    def _db() -> Iterator[Session]:
        yield db

    application.dependency_overrides[get_db] = _db
    application.dependency_overrides[get_settings] = lambda: signed
    with TestClient(application, raise_server_exceptions=False) as client:
        yield client


def text(client: TestClient, sender: str, body: str) -> None:
    form = {"MessageSid": "SM" + "2" * 32, "From": sender, "To": "10690959099", "Body": body}
    signature = RequestValidator(TOKEN).compute_signature(f"{BASE}/sms/incoming", form)
    response = client.post("/sms/incoming", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200, response.text


def resolved(db: Session, settings: Settings) -> tuple[Case, Customer, StaffUser]:
    """A case owned by an agent and resolved now; the customer got the resolved SMS."""
    owner = make_staff(db, "agent")
    customer = make_customer(db)
    now = utcnow()
    case = make_case(db, settings, customer_id=customer.id, now=now - timedelta(hours=2))
    service.assign(db, case, owner_username=owner.username, actor=AGENT, now=now)
    conversation.resolve(
        db,
        case,
        summary="已为您补发到账",
        actor=audit.Actor(name=f"staff:{owner.username}", role="agent"),
        settings=settings,
        now=now - timedelta(minutes=5),
    )
    conversation.tell_resolved(
        db, case, settings=settings, senders=build_senders(settings), now=now - timedelta(minutes=5)
    )
    return case, customer, owner


def said_by_customer(db: Session, case: Case) -> list[tuple[str | None, str]]:
    return [
        (timeline.event_data(e).get("channel"), e.body or "")
        for e in timeline.events(db, case)
        if e.kind == "message" and e.actor_role == "customer"
    ]


def replies_noted(db: Session, owner: StaffUser) -> list[str]:
    return [n.body for n in notifications.recent(db, owner.id) if n.kind == "customer_reply"]


def test_an_sms_reply_reopens_the_resolved_case_and_tells_its_owner(
    db: Session, settings: Settings, sms: TestClient
) -> None:
    case, customer, owner = resolved(db, settings)
    assert customer.phone is not None
    told = [m.body for m in outbox.latest(db, limit=20, to=customer.phone)]
    assert any("直接回复即可重新打开" in body for body in told)

    text(sms, customer.phone, "还是没到账，请再查一下")
    db.refresh(case)
    assert case.status == "open"
    assert ("sms", "还是没到账，请再查一下") in said_by_customer(db, case)
    assert (
        "还是没到账" in replies_noted(db, owner)[0]
        and case.reference in replies_noted(db, owner)[0]
    )
    sent = list(outbox.latest(db, limit=20, to=customer.phone))
    assert not any("本号码不接收" in m.body for m in sent)
    acks = [m.body for m in sent if case.reference in m.body and "已收到您的回复" in m.body]
    assert len(acks) == 1

    text(sms, customer.phone.removeprefix("+86"), "补充：是昨天晚上充的")  # the local form
    assert said_by_customer(db, case) == [
        ("sms", "还是没到账，请再查一下"),
        ("sms", "补充：是昨天晚上充的"),
    ]
    again = [m.body for m in outbox.latest(db, limit=20, to=customer.phone)]
    assert len([b for b in again if "已收到您的回复" in b]) == 1  # one answer an hour


def test_an_sms_quoting_someone_elses_reference_joins_nothing_of_theirs(
    db: Session, settings: Settings, sms: TestClient
) -> None:
    theirs, _customer, _owner = resolved(db, settings)
    stranger = make_customer(db)
    assert stranger.phone is not None
    text(sms, stranger.phone, f"{theirs.reference} 我也有问题")
    db.refresh(theirs)
    assert theirs.status == "resolved"
    assert all("我也有问题" not in body for _, body in said_by_customer(db, theirs))
    pointed = [m.body for m in outbox.latest(db, limit=5, to=stranger.phone)]
    assert any("本号码不接收" in body for body in pointed)  # no case of theirs: the pointer


def test_a_mail_reply_reopens_the_case_and_tells_its_owner(
    db: Session, settings: Settings, tmp_path: object
) -> None:
    case, customer, owner = resolved(db, settings)
    mail = email.message.EmailMessage()
    mail["From"] = f"{customer.name} <{customer.email}>"
    mail["To"] = "support@kefu-wallet.com.cn"
    mail["Subject"] = f"Re: 您的工单 {case.reference} 已处理完毕"
    mail["Message-ID"] = "<reply-0001@example.com>"
    mail["Date"] = "Mon, 07 Dec 2026 09:00:00 +0800"
    mail.set_content("钱还是没有到账，麻烦再核实。")
    now = datetime.now(UTC)
    row = intake.receive(
        db,
        raw=mail.as_bytes(),
        source="smtp",
        envelope_from=customer.email or "",
        envelope_to=["support@kefu-wallet.com.cn"],
        now=now,
    )
    result = intake.process(db, mail_id=row.id, settings=settings, now=now)
    assert result.status == "processed" and row.case_reference == case.reference
    db.refresh(case)
    assert case.status == "open"
    assert any(
        channel == "email" and "钱还是没有到账" in body
        for channel, body in said_by_customer(db, case)
    )
    assert "邮件" in replies_noted(db, owner)[0]


def test_a_wechat_message_after_the_chat_joins_its_case_once(
    db: Session, settings: Settings
) -> None:
    case, customer, owner = resolved(db, settings)
    openid = "oFollowerCaseReply0123456789"
    now = utcnow()
    ended = chat.start(db, channel="wechat", language="zh-CN", customer_id=customer.id)
    ended.verified_at = now - timedelta(minutes=30)
    ended.case_id = case.id
    ended.status = "closed"
    ended.closed_at = now - timedelta(minutes=10)
    db.add(
        WeChatFollower(
            openid=openid, subscribed=True, conversation_id=ended.id, created_at=now, updated_at=now
        )
    )
    db.flush()
    with client_for(db, wechat_settings(settings)) as http:
        wechat = WeChat(http, wechat_settings(settings))
        answer = wechat.say(openid, "还是没到账", msg_id=7_000_000_000_000_000_001)
        assert case.reference in answer and "新问题" in answer
        retried = wechat.say(openid, "还是没到账", msg_id=7_000_000_000_000_000_001)
        assert retried == answer  # WeChat's retry of the same MsgId is not a second message
        db.refresh(case)
        assert case.status == "open"
        assert said_by_customer(db, case).count(("wechat", "还是没到账")) == 1
        assert "微信" in replies_noted(db, owner)[0]

        greeting = wechat.say(openid, "新问题")  # something else: the assistant again
        assert "智能客服" in greeting
        wechat.say(openid, "怎么绑定银行卡")
    assert said_by_customer(db, case).count(("wechat", "怎么绑定银行卡")) == 0
    follower = db.scalars(select(WeChatFollower).where(WeChatFollower.openid == openid)).one()
    assert follower.conversation_id != ended.id
