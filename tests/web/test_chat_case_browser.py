"""The customer's case page in Chromium after a chat with the assistant and an agent: the
conversation reads as messages by who said them (the customer, the assistant, the agent),
with the written summary, never internal notes or [bot]/[customer] markers."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select
from tests.factories import make_staff
from tests.web.a11y import problems
from tests.web.conftest import LiveServer, screenshot

from kefu.bot import service as bot_service
from kefu.channels.models import OutboxMessage
from kefu.channels.senders import build_senders
from kefu.chat import live, routing
from kefu.chat import service as chat
from kefu.config import get_settings
from kefu.db import utcnow
from kefu.identity import service as identity_service
from kefu.wallet.port import build_wallet

PHONE = "13800005678"


def _chat_to_the_end(server: LiveServer) -> str:
    """A customer verifies in the chat, asks for a person, the agent answers and ends the
    chat with the case open; returns the case reference."""
    settings = get_settings()
    # minutes ago, so the help center may send the customer a fresh code now
    at = utcnow() - timedelta(minutes=3)
    with server.sessions() as db:
        identity_service.create_customer(
            db, wallet_account_id="W900800700", name="陈静", phone=PHONE
        )
        agent = make_staff(db, "agent")
        routing.set_presence(db, agent, "online", settings=settings)
        senders, wallet = build_senders(settings), build_wallet(settings)(db)
        conversation = chat.start(db, channel="web", language="zh-CN", now=at)
        for text in ("我的账户被锁了，登录不了", PHONE):
            bot_service.respond(
                db, conversation, text, settings=settings, senders=senders, wallet=wallet, now=at
            )
        sent = db.scalars(
            select(OutboxMessage.body)
            .where(OutboxMessage.destination == "+86" + PHONE)
            .order_by(OutboxMessage.id.desc())
        ).first()
        code = re.search(r"\d{6}", sent or "")
        assert code is not None
        bot_service.respond(
            db,
            conversation,
            code.group(0),
            settings=settings,
            senders=senders,
            wallet=wallet,
            now=at,
        )
        bot_service.respond(
            db, conversation, "转人工", settings=settings, senders=senders, wallet=wallet, now=at
        )
        item = routing.open_item(db, conversation_id=conversation.id)
        assert item is not None and conversation.case_id is not None
        live.accept(db, item, agent, settings=settings, now=at)
        live.agent_says(db, conversation, agent, "您好，我来帮您看看账户锁定的原因。", now=at)
        live.agent_says(db, conversation, agent, "疑似盗号尝试，需二线核查", internal=True, now=at)
        live.customer_says(
            db,
            conversation,
            "好的，麻烦尽快",
            settings=settings,
            senders=senders,
            wallet=wallet,
            now=at,
        )
        live.end_chat(
            db, conversation, agent, outcome="open", settings=settings, senders=senders, now=at
        )
        db.commit()
        reference = db.scalars(
            select(OutboxMessage.body)
            .where(OutboxMessage.destination == "+86" + PHONE)
            .order_by(OutboxMessage.id.desc())
        ).first()
        found = re.search(r"KF-\w{4}-\w{5}-\w", reference or "")
        assert found is not None, "the summary SMS names the case"
        return found.group(0)


def test_the_customers_case_page_shows_the_chat_as_messages(
    live_server: LiveServer, page: Page
) -> None:
    reference = _chat_to_the_end(live_server)
    page.goto(f"{live_server.url}/help/track")
    page.get_by_label("工单参考编号").fill(reference)
    page.get_by_label("手机号或邮箱").fill(PHONE)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_role("heading", name="输入验证码")).to_be_visible()
    outbox = page.context.new_page()
    outbox.goto(f"{live_server.url}/dev/outbox")
    code = re.search(r"\d{6}", outbox.locator("pre.outbox-body").first.inner_text())
    assert code
    outbox.close()
    page.get_by_label("6 位验证码").fill(code.group(0))
    page.get_by_label("6 位验证码").press("Enter")

    expect(page.get_by_role("heading", name=reference)).to_be_visible()
    timeline = page.locator(".timeline")
    mine = timeline.locator(".event-you")
    expect(mine.filter(has_text="我的账户被锁了，登录不了")).to_have_count(1)
    expect(mine.filter(has_text="好的，麻烦尽快")).to_have_count(1)
    expect(timeline.locator(".event-assistant").first).to_contain_text("智能客服")
    agent_said = timeline.locator(".event-staff").filter(has_text="我来帮您看看账户锁定的原因")
    expect(agent_said).to_have_count(1)
    expect(agent_said).to_contain_text("客服")
    expect(timeline.get_by_text("【客服小结】")).to_have_count(1)  # once, as sent by SMS
    expect(timeline).not_to_contain_text("[bot]")
    expect(timeline).not_to_contain_text("[customer]")
    expect(timeline).not_to_contain_text("二线核查")  # the agent's note stays inside
    expect(timeline).not_to_contain_text(code.group(0))
    assert problems(page) == []
    screenshot(page, "help-case-chat-messages")
