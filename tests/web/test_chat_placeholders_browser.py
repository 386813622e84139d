"""An anonymous visitor's chat in the agent's console: canned replies never show or send a
raw placeholder. The name reads neutrally; a part the chat cannot fill (no case yet) is
marked and selected in the composer, and a reply still holding it comes back unsent with
the reason. zh-CN and en."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect
from tests.factories import STAFF_PASSWORD
from tests.web.conftest import LiveServer, screenshot
from tests.web.staff_login import sign_in

from kefu.chat import service as chat_service
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
    with live_server.sessions() as db:
        agent = identity_service.create_staff(
            db, username="xiaoli", password=STAFF_PASSWORD, role="agent", display_name="坐席 小李"
        )
        conversation = chat_service.start(db, channel="web", language=lang)
        chat_service.append(db, conversation, sender="customer", text="充值没到账")
        conversation.status = "active"
        conversation.assigned_staff_id = agent.id
        db.commit()
        chat_url = f"{live_server.url}/console/chats/{conversation.id}"
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
    expect(error).to_contain_text(expected["mark"])
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
