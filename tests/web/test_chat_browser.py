"""Live chat in Debian's Chromium: a customer in the widget (phone-sized), an agent in the
console (a second browser context), a supervisor's live view; the widget surviving a server
restart; keyboard use, labels and contrast. Screenshots go to var/screenshots/."""

from __future__ import annotations

import re
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.integration.chat.conftest import free_port
from tests.integration.web.test_no_raw_codes import leaks
from tests.web.conftest import screenshot

from kefu import audit, demo
from kefu.app import create_app
from kefu.audit import AuditEvent
from kefu.bot.nlu.classify import classify
from kefu.cases.models import Case
from kefu.channels.models import OutboxMessage
from kefu.channels.senders import build_senders
from kefu.chat import live, routing
from kefu.chat import service as chat_service
from kefu.chat.models import ChatMessage, Conversation
from kefu.config import Settings, get_settings
from kefu.db import get_db, utcnow
from kefu.identity import service as identity_service
from kefu.quality import survey_config, surveys
from kefu.quality.models import QualitySurvey
from kefu.wallet import flows
from kefu.wallet.port import ActionContext, build_wallet

PHONE = "13800000004"  # 刘洋, a payment deducted but failed (docs/demo.md)


class Site:
    """The app on a fixed loopback port that can be stopped and started again."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.sessions = sessionmaker(bind=engine, expire_on_commit=False)
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        app = create_app(self.settings)

        def _db() -> Iterator[Session]:
            with self.sessions() as session:
                yield session

        app.dependency_overrides[get_db] = _db
        app.dependency_overrides[get_settings] = lambda: self.settings
        self.server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            assert time.monotonic() < deadline, "the site did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        assert self.server is not None and self.thread is not None
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture(autouse=True)
def patient() -> Iterator[None]:
    """Two browsers, a server and the assistant share two busy cores: wait longer."""
    expect.set_options(timeout=15_000)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture
def site(isolated_database: Engine, settings: Settings, tmp_path: Path) -> Iterator[Site]:
    served = settings.model_copy(
        update={"demo": True, "storage_dir": str(tmp_path / "files"), "routing_offer_seconds": 120}
    )
    with Session(isolated_database) as db:
        demo.seed(db, history=False)
        db.commit()
    classify("转人工")  # the assistant's model is trained once per process, before the clock
    running = Site(isolated_database, served)
    running.start()
    yield running
    if running.server is not None and not running.server.should_exit:
        running.stop()


def phone_context(browser: Browser) -> BrowserContext:
    return browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")


def desk_context(browser: Browser) -> BrowserContext:
    return browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")


def sign_in(page: Page, site: Site, username: str, password: str) -> None:
    page.goto(f"{site.url}/console/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_label("密码").press("Enter")
    expect(page.get_by_role("heading", name="坐席工作台")).to_be_visible()


def latest_code(site: Site) -> str:
    with site.sessions() as db:
        body = db.scalars(
            select(OutboxMessage.body)
            .where(OutboxMessage.destination == "+86" + PHONE)
            .order_by(OutboxMessage.id.desc())
        ).first()
    assert body is not None, "no code was sent"
    found = re.search(r"\b\d{6}\b", body)
    assert found is not None
    return found.group(0)


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        return struct.pack(">I", len(data)) + kind + data + crc

    raw = b"".join(b"\x00" + b"\x0b\x5c\xad" * 40 for _ in range(30))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 40, 30, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def conversation_of(site: Site) -> Conversation:
    with site.sessions() as db:
        found = db.scalars(select(Conversation).order_by(Conversation.id.desc())).first()
        assert found is not None
        return found


def deducted_payment(site: Site) -> tuple[int, int]:
    """A 1,288.00 payment the wallet took although the merchant's order failed: over the
    approval amount, so returning it needs a supervisor. Returns its id and the balance."""
    with site.sessions() as db:
        customer = identity_service.find_customer_by_contact(db, PHONE)
        assert customer is not None
        payment = flows.pay(
            db,
            account_id=customer.wallet_account_id,
            merchant="京东商城",
            amount_fen=1288_00,
            currency="CNY",
            outcome="deducted_failed",
            reason="merchant_timeout",
            ctx=ActionContext(key="journey-payment", actor=audit.Actor("system:test", "system")),
        )
        db.commit()
        wallet = build_wallet(site.settings)(db)
        return payment.id, wallet_fen(wallet.get_account(customer.wallet_account_id).balance)


def wallet_fen(amount: Decimal) -> int:
    return int(amount * 100)


def test_customer_verifies_is_handed_over_and_chats_with_an_agent(
    site: Site, browser: Browser, tmp_path: Path
) -> None:
    """The whole journey of issue 6: the assistant, a one-time code, the hand-over, a live
    chat both ways, a refund a supervisor approves, the case resolved and rated."""
    payment_id, balance_before = deducted_payment(site)
    customer_ctx, agent_ctx, boss_ctx = phone_context(browser), desk_context(browser), None
    try:
        customer = customer_ctx.new_page()
        customer.goto(f"{site.url}/chat")
        expect(customer.get_by_text("您好，我是智能客服")).to_be_visible()
        screenshot(customer, "chat-widget-greeting")

        box = customer.get_by_label("输入消息")
        box.fill("支付失败但是钱被扣了")
        box.press("Enter")
        expect(customer.locator(".msg.from-bot").nth(1)).to_be_visible()
        box.fill(PHONE)
        box.press("Enter")
        code_field = customer.get_by_label("短信验证码")
        expect(code_field).to_be_visible()
        expect(code_field).to_have_attribute("autocomplete", "one-time-code")
        screenshot(customer, "chat-widget-code")
        code = latest_code(site)
        code_field.fill(code)
        customer.get_by_role("button", name="提交验证码").click()
        expect(code_field).to_be_hidden()
        # Before and after the server's echo the bubble says the same: the code is never shown.
        expect(customer.locator(".msg.from-customer .text").last).to_have_text("［验证码已隐藏］")
        expect(customer.locator(".msg.from-bot").last).to_contain_text("1,288.00")
        expect(customer.locator(".msg.from-customer .text").last).to_have_text("［验证码已隐藏］")
        expect(customer.get_by_role("log", name="会话记录")).not_to_contain_text(code)
        screenshot(customer, "chat-widget-payment-found")

        box.fill("转人工")
        box.press("Enter")
        banner = customer.locator(".banner")
        expect(banner).to_have_attribute("role", "status")
        expect(banner).to_contain_text("正在为您转接人工客服")
        expect(banner).to_contain_text("第 1 位")
        screenshot(customer, "chat-widget-queued")

        boss_ctx = desk_context(browser)
        boss = boss_ctx.new_page()
        sign_in(boss, site, "supervisor", "kefu-supervisor-demo")
        boss.goto(f"{site.url}/console/queues")
        expect(boss.get_by_role("heading", name="等待中的客户")).to_be_visible()
        expect(boss.locator("#queues-panel")).to_contain_text("支付失败/扣款异常")
        screenshot(boss, "console-live-queues")

        agent = agent_ctx.new_page()
        sign_in(agent, site, "agent", "kefu-agent-demo")
        agent.get_by_role("link", name="收件箱", exact=True).click()
        agent.get_by_label("状态").select_option("online")
        agent.get_by_role("button", name="切换").click()
        offer = agent.locator(".item.offer")
        expect(offer).to_contain_text("刘洋")
        screenshot(agent, "console-inbox-offer")
        offer.get_by_role("button", name="接入", exact=True).click()
        expect(agent.get_by_role("heading", name="刘洋")).to_be_visible()
        expect(agent.locator(".facts").first).to_contain_text("已验证")

        expect(banner).to_contain_text("张敏 正在为您服务")
        expect(customer.get_by_text("客服 张敏 已接入会话")).to_be_visible()

        with site.sessions() as db:  # accepting the chat made its case the agent's
            handed = conversation_of(site)
            case = db.get(Case, handed.case_id)
            assert case is not None and case.owner_id is not None
            assert (case.category, case.status, case.first_responded_at) == (
                "payment_failed",
                "new",
                None,
            )
            assert case.subject.startswith("支付失败/扣款异常：支付失败但是钱被扣了")

        reply = agent.get_by_label("回复", exact=True)
        reply.fill("刘先生您好，我来帮您处理这笔扣款。")
        reply.press("Enter")
        from_agent = customer.locator(".msg.from-agent").last
        expect(from_agent).to_contain_text("我来帮您处理这笔扣款")
        expect(from_agent.locator(".who")).to_have_text("张敏")
        with site.sessions() as db:  # the first chat reply is the case's first response
            case = db.get(Case, handed.case_id)
            assert case is not None and case.first_responded_at is not None
            assert case.status == "open"

        box.press_sequentially("好的", delay=50)
        expect(agent.get_by_text("客户正在输入…")).to_be_visible()
        box.press("Enter")
        expect(agent.locator(".msg.from-customer").last).to_contain_text("好的")

        customer.locator("#kefu-file").set_input_files(
            files=[{"name": "截图.png", "mimeType": "image/png", "buffer": png()}]
        )
        expect(agent.locator(".msg.from-customer img").last).to_be_visible()
        expect(customer.locator(".msg.from-customer img").last).to_be_visible()

        agent.get_by_text("快捷回复（知识库）").click()
        agent.get_by_label("搜索快捷回复").fill("问候")
        expect(agent.locator("#canned-results li").first).to_contain_text("刘洋")
        agent.locator("#canned-results").get_by_role("button", name="插入").first.click()
        expect(reply).to_have_value(re.compile("刘洋您好，我是张敏，"))
        reply.press("Enter")
        expect(customer.locator(".msg.from-agent").last).to_contain_text("刘洋您好")

        agent.get_by_label("作为内部备注（客户看不到）").check()
        reply.fill("客户已验证，京东商城订单超时，需退回 1288 元")
        reply.press("Enter")
        expect(agent.locator(".msg.internal").last).to_contain_text("需退回 1288 元")
        agent.get_by_label("作为内部备注（客户看不到）").uncheck()
        screenshot(agent, "console-live-chat")
        screenshot(customer, "chat-widget-agent")

        # the customer view, opened from the chat, returns the payment: a supervisor decides
        with agent_ctx.expect_page() as opened:
            agent.get_by_role("link", name="打开客户视图（账户与操作）").click()
        view = opened.value
        expect(view).to_have_url(re.compile(rf"\?case=KF-[\w-]+#tx-{payment_id}$"))
        expect(view.get_by_role("heading", name="刘洋")).to_be_visible()
        row = view.locator(f"#tx-{payment_id}")
        expect(row).to_be_in_viewport()  # the row of the payment the assistant found
        expect(row).to_contain_text("京东商城")
        row.locator("summary", has_text="退款").click()
        form = row.locator("form")
        form.get_by_label("操作原因（必填，记入审计）").fill(
            "商户超时，订单未成立，客户在线要求退回"
        )
        expect(form.get_by_label("关联工单")).not_to_have_value("")
        screenshot(view, "console-chat-customer-refund")
        form.get_by_role("button", name="确认退款").dblclick()
        expect(view.get_by_role("status")).to_contain_text("主管批准后才会执行")

        boss.get_by_role("link", name="审批队列").click()
        request = boss.locator("article.approval").first
        expect(request).to_contain_text("撤销扣款")
        expect(request).to_contain_text("1288.00")
        expect(request).to_contain_text("张敏")
        screenshot(boss, "console-chat-approval")
        request.get_by_role("button", name="批准并执行").dblclick()
        expect(boss.get_by_role("status")).to_contain_text("已处理")

        view.reload()
        expect(view.locator(f"#tx-{payment_id}")).to_contain_text("已退回")
        screenshot(view, "console-chat-customer-refunded")
        with site.sessions() as db:  # the wallet moved the money back once, for all the clicks
            wallet = build_wallet(site.settings)(db)
            returned = wallet.get_transaction(str(payment_id))
            balance = wallet_fen(wallet.get_account(returned.account_id).balance)
            reversals = db.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "wallet.reverse_payment")
            )
        assert (returned.status, balance, reversals) == (
            "reversed",
            balance_before + 1288_00,
            1,
        )

        reply.fill("1,288.00 元已退回您的钱包余额，请查收。")
        reply.press("Enter")
        expect(customer.locator(".msg.from-agent").last).to_contain_text("已退回您的钱包余额")
        summary = agent.get_by_label("发给客户的小结（可修改）")
        expect(summary).to_have_value(re.compile("问题已解决"))
        agent.get_by_label("继续跟进（工单保持处理中）").check()
        expect(summary).to_have_value(re.compile("我们会继续处理"))  # follows the outcome
        agent.get_by_label("问题已解决（工单标记为已解决）").check()
        # what was done since the page opened: the refund, in the words the customer read
        expect(summary).to_have_value(re.compile("已为您办理"))
        expect(summary).to_have_value(re.compile(r"KF-\w{4}-\w{5}-\w"))
        summary.press("End")
        summary.press_sequentially("祝您生活愉快。")
        screenshot(agent, "console-chat-end-summary")
        agent.get_by_role("button", name="结束会话并发送小结").click()
        expect(agent).to_have_url(re.compile(r"/console/inbox$"))
        expect(customer.get_by_text("会话已结束。")).to_be_visible()
        expect(customer.locator(".msg").filter(has_text="【客服小结】")).to_contain_text(
            "祝您生活愉快。"
        )
        screenshot(customer, "chat-widget-summary")
        expect(customer.get_by_text("需退回 1288 元")).to_have_count(0)

        with site.sessions() as db:  # the quality service's periodic send, a little later
            surveys.send_due(
                db,
                senders=build_senders(site.settings),
                settings=site.settings,
                now=utcnow() + timedelta(minutes=5),
            )
            db.commit()
        card = customer.locator(".survey")
        expect(card).to_be_visible(timeout=20_000)
        screenshot(customer, "chat-widget-survey")
        card.get_by_role("button").last.click()
        expect(customer.get_by_text("感谢您的评价！")).to_be_visible()
        with site.sessions() as db:
            conversation = db.scalars(select(Conversation).order_by(Conversation.id.desc())).first()
            assert conversation is not None and conversation.status == "closed"
            assert conversation.case_id is not None
            case = db.get(Case, conversation.case_id)
            assert case is not None and case.status == "resolved"
            answered = surveys.for_conversation(db, conversation.id)
            assert answered is None  # answered: no card waiting any more
    finally:
        customer_ctx.close()
        agent_ctx.close()
        if boss_ctx is not None:
            boss_ctx.close()


def test_the_widget_resumes_after_the_server_restarts(site: Site, browser: Browser) -> None:
    context = phone_context(browser)
    try:
        page = context.new_page()
        urls: list[str] = []  # every address the widget asks: the owner key is in none
        page.on("request", lambda request: urls.append(request.url))
        page.on("websocket", lambda socket: urls.append(socket.url))
        page.goto(f"{site.url}/chat")
        expect(page.get_by_text("您好，我是智能客服")).to_be_visible()
        conversation = conversation_of(site)
        with site.sessions() as db:
            agent = identity_service.get_staff_by_username(db, "agent")
            assert agent is not None
            routing.set_presence(db, agent, "online", settings=site.settings)
            held = db.get(Conversation, conversation.id)
            assert held is not None
            held.status = "queued"
            item = routing.enqueue(
                db,
                kind="chat",
                language="zh-CN",
                category="other",
                conversation_id=held.id,
                settings=site.settings,
            )
            live.accept(db, item, agent, settings=site.settings)
            live.agent_says(db, held, agent, "重启前的一条")
            db.commit()
        expect(page.locator(".msg.from-agent")).to_have_text(re.compile("重启前的一条"))

        site.stop()
        expect(page.get_by_text("连接中断，正在重新连接…")).to_be_visible()
        screenshot(page, "chat-widget-reconnecting")
        with site.sessions() as db:  # written while no server runs: only the database has it
            held = db.get(Conversation, conversation.id)
            agent = identity_service.get_staff_by_username(db, "agent")
            assert held is not None and agent is not None
            live.agent_says(db, held, agent, "服务器重启期间的一条")
            db.commit()
        site.start()
        expect(page.locator(".msg.from-agent").last).to_contain_text(
            "服务器重启期间的一条", timeout=30_000
        )
        expect(page.get_by_text("连接中断，正在重新连接…")).to_be_hidden()
        box = page.get_by_label("输入消息")
        box.fill("重启后收到了")
        box.press("Enter")
        expect(page.locator(".msg.from-customer:not(.pending)").last).to_contain_text(
            "重启后收到了"
        )
        page.locator("#kefu-file").set_input_files(
            files=[{"name": "截图.png", "mimeType": "image/png", "buffer": png()}]
        )
        expect(page.locator(".msg.from-customer img")).to_have_count(1)

        page.reload()  # the conversation survives a reload too: the key is kept
        expect(page.locator(".msg.from-agent")).to_have_count(2)
        expect(page.locator(".msg.from-customer")).to_have_count(2)
        # the screenshot is fetched with the key and shown (an <img src> could not send it)
        expect(page.locator(".msg.from-customer img")).to_have_attribute(
            "src", re.compile(r"^blob:")
        )
        assert page.locator(".msg.from-customer img").evaluate("img => img.naturalWidth") > 0
        kept = page.evaluate(
            "() => JSON.parse(localStorage.getItem('kefu.chat.' + location.origin))"
        )
        assert kept["id"] == conversation.public_id and len(kept["key"]) >= 40
        assert not [url for url in urls if kept["key"] in url]
        # the id alone, as someone who read it off this customer's screen: nothing opens
        stranger = browser.new_context()
        try:
            peek = stranger.request.get(
                f"{site.url}/api/v1/bot/conversations/{conversation.public_id}/messages"
            )
            assert peek.status == 404
        finally:
            stranger.close()
        with site.sessions() as db:
            stored = db.scalars(
                select(ChatMessage).where(
                    ChatMessage.conversation_id == conversation.id,
                    ChatMessage.sender == "customer",
                )
            ).all()
        assert [m.text for m in stored] == ["重启后收到了", "截图.png"]
        screenshot(page, "chat-widget-resumed")
    finally:
        context.close()


CONTRAST = """
(el) => {
  function rgb(value) { return value.match(/[\\d.]+/g).slice(0, 3).map(Number); }
  function lum(c) {
    const [r, g, b] = c.map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  }
  let node = el, bg = null;
  while (node && node.nodeType === 1) {
    const c = getComputedStyle(node).backgroundColor;
    if (c && !c.startsWith("rgba(0, 0, 0, 0)") && c !== "transparent") { bg = c; break; }
    node = node.parentNode && node.parentNode.host ? node.parentNode.host : node.parentNode;
  }
  const a = lum(rgb(getComputedStyle(el).color)), b = lum(rgb(bg || "rgb(255,255,255)"));
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}
"""


def contrast(page: Any, selector: str) -> float:
    """The first match's contrast ratio; the live widget may re-render the element while it
    is read (a detached element has no computed colour), so it is read again then."""
    for _ in range(3):
        try:
            return float(page.locator(selector).first.evaluate(CONTRAST))
        except PlaywrightError:
            page.wait_for_timeout(300)
    return float(page.locator(selector).first.evaluate(CONTRAST))


UNLABELLED = """
(root) => Array.from(root.querySelectorAll("input:not([type=hidden]), textarea, select"))
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute("aria-label"))
  .map(el => el.id || el.name || el.outerHTML.slice(0, 60))
"""


def test_widget_and_console_basics_of_accessibility(site: Site, browser: Browser) -> None:
    context = phone_context(browser)
    try:
        page = context.new_page()
        page.goto(f"{site.url}/chat")
        expect(page.get_by_text("您好，我是智能客服")).to_be_visible()
        panel = page.get_by_role("dialog", name="在线客服")
        expect(panel).to_be_visible()
        page.keyboard.press("Escape")  # closes, and the focus goes back to the launcher
        expect(panel).to_be_hidden()
        launcher = page.locator("#kefu-chat-widget").get_by_role("button", name="在线客服")
        expect(launcher).to_be_focused()
        page.keyboard.press("Enter")
        expect(panel).to_be_visible()
        expect(page.get_by_label("输入消息")).to_be_focused()
        page.keyboard.type("你好")
        page.keyboard.press("Enter")
        expect(page.locator(".msg.from-customer").first).to_contain_text("你好")
        page.evaluate("KefuChat.close()")  # the host page's own buttons (docs/chat.md)
        expect(panel).to_be_hidden()
        page.evaluate("KefuChat.open()")
        expect(panel).to_be_visible()

        shadow = page.locator("#kefu-chat-widget")
        missing: list[Any] = shadow.evaluate(
            "(host) => (" + UNLABELLED.strip() + ")(host.shadowRoot)"
        )
        assert missing == []
        for selector in (".launcher", ".msg.from-customer .text", ".msg.from-bot .text", "h2"):
            ratio = contrast(page, selector)
            assert ratio >= 4.5, (selector, ratio)
        held: list[Route] = []  # the widget's texts, held back: the call comes before them
        page.route("**/api/v1/chat/widget-texts*", lambda route: held.append(route))
        page.goto(f"{site.url}/help", wait_until="domcontentloaded")
        page.evaluate("KefuChat.open()")
        while not held:
            page.wait_for_timeout(20)
        expect(panel).to_have_count(0)
        held[0].continue_()
        expect(panel).to_be_visible()
    finally:
        context.close()

    desk = desk_context(browser)
    try:
        page = desk.new_page()
        sign_in(page, site, "supervisor", "kefu-supervisor-demo")
        for path in ("/console/inbox", "/console/queues"):
            page.goto(site.url + path)
            assert page.evaluate("(" + UNLABELLED.strip() + ")(document)") == []
            for selector in ("h1, h2", ".muted", "button"):
                ratio = contrast(page, selector)
                assert ratio >= 4.5, (path, selector, ratio)
        screenshot(page, "console-queues-empty")
    finally:
        desk.close()


def test_console_pages_in_english(site: Site, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    try:
        page = context.new_page()
        sign_in_en(page, site)
        page.goto(f"{site.url}/console/inbox?lang=en")
        expect(page.get_by_role("heading", name="Inbox").first).to_be_visible()
        expect(page.get_by_text("Unassigned queue")).to_be_visible()
        screenshot(page, "console-inbox-en")
    finally:
        context.close()


def sign_in_en(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/console/login?lang=en")
    page.get_by_label("Username").fill("agent")
    page.get_by_label("Password").fill("kefu-agent-demo")
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(re.compile(r".*/console$"))


def _focused_in_widget(page: Page) -> str:
    """What has the keyboard focus: a widget control's text or label, or "outside"."""
    found: str = page.evaluate(
        """() => {
            const host = document.getElementById("kefu-chat-widget");
            if (document.activeElement !== host) return "outside";
            const node = host.shadowRoot.activeElement;
            if (!node) return "outside";
            return node.getAttribute("aria-label") || node.id || node.textContent.trim();
        }"""
    )
    return found


def test_the_end_of_a_chat_in_the_widget(site: Site, browser: Browser) -> None:
    """Times on every message, the newest message in view after a reload, Tab going round
    the open widget's chips and close button and never onto the page, Escape closing it,
    and the satisfaction card appearing when it is due, without a reload and without the
    periodic send."""
    with site.sessions() as db:  # the card is due a moment after the close
        survey_config.save(
            db, {"chat_delay_minutes": 0}, actor=audit.Actor("system:test", "system")
        )
        db.commit()
    context = phone_context(browser)
    try:
        customer = context.new_page()
        customer.goto(f"{site.url}/help")
        customer.evaluate("KefuChat.open()")
        widget = customer.locator("#kefu-chat-widget")
        expect(widget.locator(".msg.from-bot").first).to_be_visible()
        for text in ("你好", "充值", "转账", "退款", "提现", "绑卡"):
            customer.get_by_label("输入消息").fill(text)
            customer.get_by_label("输入消息").press("Enter")
            expect(widget.locator(".msg.from-customer .text").last).to_have_text(text)
        expect(widget.locator(".msg.from-bot")).to_have_count(7)
        clock = re.compile(r"^\d{2}:\d{2}$")
        for time_text in widget.locator(".msg time").all_inner_texts():
            assert clock.match(time_text), time_text
        shown = widget.evaluate("(host) => host.shadowRoot.querySelector('.panel').innerText")
        assert leaks(shown, chinese=True) == [], shown

        customer.reload()  # the same chat resumes, opened at its newest message
        customer.evaluate("KefuChat.open()")
        expect(widget.locator(".msg.from-customer .text").last).to_have_text("绑卡")
        customer.wait_for_timeout(300)
        gap = widget.locator(".messages").evaluate(
            "(list) => list.scrollHeight - list.scrollTop - list.clientHeight"
        )
        assert gap <= 2, gap
        assert widget.locator(".messages").evaluate("(list) => list.scrollTop") > 0

        chips = widget.locator(".quick button").all_inner_texts()
        assert chips, "the assistant offered no choices"
        reached: list[str] = []
        for _ in range(len(chips) + 12):
            customer.keyboard.press("Tab")
            reached.append(_focused_in_widget(customer))
        assert "outside" not in reached, reached
        assert set(chips) <= set(reached) and "关闭" in reached, reached
        for _ in range(3):
            customer.keyboard.press("Shift+Tab")
            assert _focused_in_widget(customer) != "outside"
        customer.keyboard.press("Escape")
        expect(widget.get_by_role("dialog")).to_be_hidden()
        customer.evaluate("KefuChat.open()")

        surveys_asked: list[int] = []
        customer.on(
            "response",
            lambda response: (
                surveys_asked.append(response.status)
                if "/api/v1/surveys/conversation/" in response.url
                else None
            ),
        )
        conversation = conversation_of(site)
        with site.sessions() as db:
            held = db.get(Conversation, conversation.id)
            agent = identity_service.get_staff_by_username(db, "agent")
            assert held is not None and agent is not None
            held.status, held.assigned_staff_id = "active", agent.id
            db.commit()
            live.end_chat(
                db,
                held,
                agent,
                outcome="solved",
                settings=site.settings,
                senders=build_senders(site.settings),
            )
            planned = db.scalars(
                select(QualitySurvey).where(QualitySurvey.conversation_id == held.id)
            ).one()
            assert planned.status == "scheduled"
            planned.due_at = utcnow() + timedelta(seconds=3)  # the widget waits for it
            db.commit()
        expect(customer.get_by_text("会话已结束。")).to_be_visible()
        card = widget.locator(".survey")
        expect(card).to_be_visible(timeout=20_000)
        assert 404 not in surveys_asked, surveys_asked
        assert surveys_asked[0] == 200
        screenshot(customer, "chat-widget-survey-due")
        stars = card.get_by_role("button").all()
        assert len(stars) == 5
        stars[-1].focus()
        customer.keyboard.press("Tab")
        assert _focused_in_widget(customer) != "outside"
        stars[-1].click()
        expect(customer.get_by_text("感谢您的评价！")).to_be_visible()
    finally:
        context.close()


def test_the_agents_chat_opens_at_the_newest_message(site: Site, browser: Browser) -> None:
    """A long chat opened in the console shows its last message, not its first."""
    with site.sessions() as db:
        customer = identity_service.find_customer_by_contact(db, PHONE)
        assert customer is not None
        conversation = chat_service.start(
            db, channel="web", language="zh-CN", customer_id=customer.id
        )
        for number in range(40):
            sender = "customer" if number % 2 == 0 else "bot"
            chat_service.append(db, conversation, sender=sender, text=f"第 {number + 1} 条消息")
        db.commit()
        chat_id = conversation.id
    desk = desk_context(browser)
    try:
        page = desk.new_page()
        sign_in(page, site, "supervisor", "kefu-supervisor-demo")
        page.goto(f"{site.url}/console/chats/{chat_id}")
        log = page.get_by_role("log")
        expect(log.locator(".msg").last).to_contain_text("第 40 条消息")
        expect(log.locator(".msg time").first).to_have_text(re.compile(r"^\d{2}:\d{2}$"))
        gap = log.evaluate("(list) => list.scrollHeight - list.scrollTop - list.clientHeight")
        assert gap <= 2, gap
        assert log.evaluate("(list) => list.scrollTop") > 0
        screenshot(page, "console-chat-newest")
    finally:
        desk.close()
