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
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from tests.integration.chat.conftest import free_port
from tests.web.conftest import screenshot

from kefu import demo
from kefu.app import create_app
from kefu.bot.nlu.classify import classify
from kefu.channels.models import OutboxMessage
from kefu.channels.senders import build_senders
from kefu.chat import live, routing
from kefu.chat.models import ChatMessage, Conversation
from kefu.config import Settings, get_settings
from kefu.db import get_db, utcnow
from kefu.identity import service as identity_service
from kefu.quality import surveys

PHONE = "13800000001"  # 张伟, account locked (docs/demo.md)


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
        demo.seed(db)
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


def test_customer_verifies_is_handed_over_and_chats_with_an_agent(
    site: Site, browser: Browser, tmp_path: Path
) -> None:
    customer_ctx, agent_ctx, boss_ctx = phone_context(browser), desk_context(browser), None
    try:
        customer = customer_ctx.new_page()
        customer.goto(f"{site.url}/chat")
        expect(customer.get_by_text("您好，我是智能客服")).to_be_visible()
        screenshot(customer, "chat-widget-greeting")

        customer.get_by_role("button", name="账户被锁定").click()
        expect(customer.locator(".msg.from-customer").last).to_have_text("账户被锁定")
        box = customer.get_by_label("输入消息")
        expect(customer.locator(".msg.from-bot").nth(1)).to_be_visible()
        box.fill(PHONE)
        box.press("Enter")
        code_field = customer.get_by_label("短信验证码")
        expect(code_field).to_be_visible()
        expect(code_field).to_have_attribute("autocomplete", "one-time-code")
        screenshot(customer, "chat-widget-code")
        code_field.fill(latest_code(site))
        customer.get_by_role("button", name="提交验证码").click()
        expect(code_field).to_be_hidden()
        expect(customer.get_by_text("（已提交验证码）")).to_be_visible()

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
        expect(boss.locator("#queues-panel")).to_contain_text("账户被锁定")
        screenshot(boss, "console-live-queues")

        agent = agent_ctx.new_page()
        sign_in(agent, site, "agent", "kefu-agent-demo")
        agent.get_by_role("link", name="收件箱").click()
        agent.get_by_label("状态").select_option("online")
        agent.get_by_role("button", name="切换").click()
        offer = agent.locator(".item.offer")
        expect(offer).to_contain_text("张伟")
        screenshot(agent, "console-inbox-offer")
        offer.get_by_role("button", name="接入", exact=True).click()
        expect(agent.get_by_role("heading", name="张伟")).to_be_visible()
        expect(agent.locator(".facts").first).to_contain_text("已验证")

        expect(banner).to_contain_text("客服 张敏 正在为您服务")
        expect(customer.get_by_text("客服 张敏 已接入会话")).to_be_visible()

        reply = agent.get_by_label("回复", exact=True)
        reply.fill("张先生您好，我来帮您处理账户锁定的问题。")
        reply.press("Enter")
        from_agent = customer.locator(".msg.from-agent").last
        expect(from_agent).to_contain_text("我来帮您处理账户锁定的问题")
        expect(from_agent.locator(".who")).to_have_text("客服 张敏")

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
        expect(agent.locator("#canned-results li").first).to_contain_text("张伟")
        agent.locator("#canned-results").get_by_role("button", name="插入").first.click()
        expect(reply).to_have_value(re.compile("张伟您好，我是客服 张敏"))
        reply.press("Enter")
        expect(customer.locator(".msg.from-agent").last).to_contain_text("张伟您好")

        agent.get_by_label("作为内部备注（客户看不到）").check()
        reply.fill("客户已验证，账户锁定原因：密码错误 5 次")
        reply.press("Enter")
        expect(agent.locator(".msg.internal").last).to_contain_text("密码错误 5 次")
        agent.get_by_label("作为内部备注（客户看不到）").uncheck()
        screenshot(agent, "console-live-chat")
        screenshot(customer, "chat-widget-agent")

        agent.get_by_role("button", name="问题已解决，结束会话").click()
        expect(agent).to_have_url(re.compile(r"/console/inbox$"))
        expect(customer.get_by_text("会话已结束。")).to_be_visible()
        expect(customer.get_by_text("密码错误 5 次")).to_have_count(0)

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

        page.reload()  # the conversation survives a reload too
        expect(page.locator(".msg.from-agent")).to_have_count(2)
        expect(page.locator(".msg.from-customer")).to_have_count(1)
        with site.sessions() as db:
            stored = db.scalars(
                select(ChatMessage).where(
                    ChatMessage.conversation_id == conversation.id,
                    ChatMessage.sender == "customer",
                )
            ).all()
        assert [m.text for m in stored] == ["重启后收到了"]
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

        shadow = page.locator("#kefu-chat-widget")
        missing: list[Any] = shadow.evaluate(
            "(host) => (" + UNLABELLED.strip() + ")(host.shadowRoot)"
        )
        assert missing == []
        for selector in (".launcher", ".msg.from-customer .text", ".msg.from-bot .text", "h2"):
            ratio = page.locator(selector).first.evaluate(CONTRAST)
            assert ratio >= 4.5, (selector, ratio)
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
                ratio = page.locator(selector).first.evaluate(CONTRAST)
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
