"""Canned replies never show or send a raw placeholder. An anonymous visitor's chat: the
name reads neutrally; a part the chat cannot fill (no case yet) is marked and selected in
the composer, and a reply still holding it comes back unsent with the reason (zh-CN and
en). The case page's reply box does the same."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect
from tests.factories import STAFF_PASSWORD
from tests.web.conftest import LiveServer, an_agents_chat, screenshot
from tests.web.staff_login import sign_in

from kefu import audit
from kefu.cases import service as cases_service
from kefu.chat import saved_replies
from kefu.config import get_settings
from kefu.i18n import translate
from kefu.identity import service as identity_service

TEXTS = {
    "zh-CN": {"greeting": "您好，我是坐席 小李", "mark": "【请填写：工单编号】"},
    "en": {"greeting": "Hello there, this is 坐席 小李", "mark": "[fill in: case reference]"},
}


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_canned_replies_for_an_anonymous_visitor(
    live_server: LiveServer, browser: Browser, lang: str
) -> None:
    chat_url = an_agents_chat(live_server, language=lang)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=lang)
    page = context.new_page()
    page.goto(f"{live_server.url}/console/login?lang=zh-CN")  # the sign-in helper reads Chinese
    sign_in(live_server, page, "xiaoli")
    page.goto(f"{chat_url}?lang={lang}")
    t = lambda key: translate(key, lang)  # noqa: E731
    expected = TEXTS[lang]
    reply = page.get_by_label(t("chat.console.reply"), exact=True)
    page.get_by_text(t("chat.console.canned"), exact=True).click()
    results = page.locator("#canned-results")
    expect(results.locator("li").first).to_be_visible()
    expect(results).not_to_contain_text("{")

    def insert(title: str) -> None:
        item = results.locator("li").filter(has_text=title)
        item.get_by_role("button", name=t("chat.console.canned.insert")).click()

    insert(t("chat.canned.greeting.title"))
    expect(reply).to_have_value(re.compile("^" + re.escape(expected["greeting"])))
    assert "{" not in reply.input_value()
    reply.fill("")

    insert(t("chat.canned.checking.title"))
    value = reply.input_value()
    assert expected["mark"] in value and "{" not in value
    selected = reply.evaluate("(a) => a.value.slice(a.selectionStart, a.selectionEnd)")
    assert selected == expected["mark"]  # typing replaces it
    hint = page.locator("#composer-hint")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text(expected["mark"])
    screenshot(page, f"console-chat-canned-to-fill-{lang}")

    # sent as it stands: refused, back in the composer, the reason said
    page.get_by_role("button", name=t("chat.console.send"), exact=True).click()
    error = page.locator("#composer-error")
    expect(error).to_be_visible()
    expect(error).to_have_text(translate("error.reply.unfilled", lang, part=expected["mark"]))
    expect(hint).to_be_hidden()  # the refusal says what to do once, not beside the hint
    expect(page.locator("#composer p:visible")).to_have_count(1)
    expect(reply).to_have_value(value)
    log = page.get_by_role("log")
    expect(log.locator(".msg.from-agent")).to_have_count(0)
    screenshot(page, f"console-chat-canned-refused-{lang}")

    # the agent types over the selected mark and sends
    selected = reply.evaluate("(a) => a.value.slice(a.selectionStart, a.selectionEnd)")
    assert selected == expected["mark"]
    page.keyboard.type("KF-2612-A1B2C-3")
    page.get_by_role("button", name=t("chat.console.send"), exact=True).click()
    sent = log.locator(".msg.from-agent:not(.pending)")
    expect(sent).to_have_count(1)
    expect(sent).to_contain_text("KF-2612-A1B2C-3")
    expect(sent).not_to_contain_text(expected["mark"])
    expect(reply).to_have_value("")
    expect(hint).to_be_hidden()
    context.close()


def test_the_case_pages_canned_reply_marks_what_the_case_cannot_fill(
    live_server: LiveServer, browser: Browser
) -> None:
    """A case whose clock is paused has no committed time: a saved reply naming it has the
    part selected in the reply box, and sent as it stands it comes back with the reason."""
    with live_server.sessions() as db:
        customer = identity_service.create_customer(
            db, wallet_account_id="W700800902", name="刘洋", phone="13800001236"
        )
        case = cases_service.open_case(
            db,
            new=cases_service.NewCase(
                customer_id=customer.id,
                category="recharge_not_credited",
                channel="web",
                subject="充值没到账",
            ),
            actor=audit.Actor(name=f"customer:{customer.id}", role="customer"),
            settings=get_settings(),
        )
        case.resolution_due_at = None  # paused: no committed time to give
        saved_replies.create(
            db,
            saved_replies.ReplyText(
                category="general",
                title_zh="答复时间",
                body_zh="{customer_name}您好，工单 {reference} 将在 {committed_time} 前答复。",
                title_en="When we answer",
                body_en="Hello {customer_name}, case {reference} is answered by {committed_time}.",
            ),
            owner_id=None,
            actor=audit.Actor.system(),
        )
        db.commit()
        url = f"{live_server.url}/console/cases/{case.reference}"
        reference = case.reference
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    sign_in_as = "xiaozhao"
    with live_server.sessions() as db:
        identity_service.create_staff(
            db, username=sign_in_as, password=STAFF_PASSWORD, role="agent", display_name="坐席 小赵"
        )
        db.commit()
    sign_in(live_server, page, sign_in_as)
    page.goto(url)
    page.get_by_text("常用回复", exact=True).click()
    page.get_by_role("button", name="答复时间").click()
    body = page.get_by_label("回复内容（客户可见）")
    mark = "【请填写：承诺答复时间】"
    expect(body).to_have_value(
        re.compile(f"^刘洋您好.工单 {reference} 将在 {re.escape(mark)} 前答复")
    )
    selected = body.evaluate("(a) => a.value.slice(a.selectionStart, a.selectionEnd)")
    assert selected == mark
    page.get_by_role("button", name="发送回复").click()
    expect(page.get_by_text(f"消息中还有待填写的部分：{mark}。请您补全后再发送。")).to_be_visible()
    expect(body).to_have_value(
        re.compile(f"^刘洋您好.工单 {reference} 将在 {re.escape(mark)} 前答复")
    )
    screenshot(page, "console-case-canned-refused")
    context.close()
