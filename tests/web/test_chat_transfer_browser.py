"""Transferring a live chat from its page, in a browser: a supervisor takes over a chat
an agent holds by choosing themselves in the transfer list; a chat sent by name to a
colleague not online promises no minutes, to the customer in the widget nor to the
supervisor on the live queues."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser, expect
from tests.factories import STAFF_PASSWORD
from tests.web.conftest import LiveServer, screenshot
from tests.web.staff_login import sign_in

from kefu.chat import live, routing
from kefu.chat import service as chat
from kefu.chat.models import Conversation
from kefu.config import Settings
from kefu.i18n import translate
from kefu.identity import service as identity_service


def held_chat(server: LiveServer, settings: Settings, keys: dict[str, str] | None = None) -> int:
    """A chat 坐席 小王 holds; 主管 李娜 is online. Its conversation id; ``keys`` gets its
    public id and owner key, for the customer's widget."""
    with server.sessions() as db:
        wang = identity_service.create_staff(
            db, username="wang", password=STAFF_PASSWORD, role="agent", display_name="坐席 小王"
        )
        lina = identity_service.create_staff(
            db,
            username="lina",
            password=STAFF_PASSWORD,
            role="supervisor",
            display_name="主管 李娜",
        )
        for staff in (wang, lina):
            routing.set_presence(db, staff, "online", settings=settings)
        conversation = chat.start(db, channel="web", language="zh-CN")
        if keys is not None:
            keys.update(id=conversation.public_id, key=chat.issue_owner_key(conversation))
        conversation.status = "queued"
        item = routing.enqueue(
            db,
            kind="chat",
            language="zh-CN",
            category="recharge_not_credited",
            conversation_id=conversation.id,
            settings=settings,
        )
        live.accept(db, item, wang, settings=settings)
        db.commit()
        return conversation.id


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_a_supervisor_takes_over_a_chat_by_transferring_it_to_themselves(
    live_server: LiveServer, browser: Browser, live_settings: Settings, lang: str
) -> None:
    conversation_id = held_chat(live_server, live_settings)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    sign_in(live_server, page, "lina")
    page.goto(f"{live_server.url}/console/chats/{conversation_id}?lang={lang}")
    words = {
        "zh-CN": ("转给", "主管 李娜（我自己）", "转接原因（下一位坐席可见）", "等我接入的客户"),
        "en": ("Transfer to", "主管 李娜 (myself)", "Reason", "Customers offered to me"),
    }[lang]
    choice = page.get_by_label(words[0])
    expect(choice.locator("option", has_text=words[1])).to_have_count(1)
    expect(choice.locator("option", has_text="坐席 小王")).to_have_count(0)
    choice.select_option(label=words[1])
    screenshot(page, f"console-chat-transfer-myself-{lang}")
    page.get_by_label(words[2]).fill("高风险客户，主管接管")
    page.locator("#transfer-h + form button[type=submit]").click()
    offers = page.get_by_role("region", name=words[3])
    expect(offers.locator(".item.offer")).to_have_count(1)
    offers.locator("button.accept").click()
    expect(page).to_have_url(f"{live_server.url}/console/chats/{conversation_id}")
    expect(page.locator("#internal")).to_be_enabled()  # she holds it: she may reply
    context.close()


def test_a_transfer_to_a_colleague_offline_is_told_first_and_shows_on_the_queues(
    live_server: LiveServer, browser: Browser, live_settings: Settings
) -> None:
    conversation_id = held_chat(live_server, live_settings)
    with live_server.sessions() as db:
        identity_service.create_staff(
            db, username="zhangmin", password=STAFF_PASSWORD, role="agent", display_name="客服 张敏"
        )
        db.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    sign_in(live_server, page, "wang")
    page.goto(f"{live_server.url}/console/chats/{conversation_id}")
    page.get_by_label("转给").select_option(label="客服 张敏（一线客服 · 离线）")
    page.get_by_label("转接原因（下一位坐席可见）").fill("老客户，张敏跟进过")
    page.locator("#transfer-h ~ form.stack button[type=submit]").click()
    warning = page.get_by_role("alert")
    expect(warning).to_contain_text(
        "客服 张敏现在是「离线」：转给客服 张敏后，"
        "客户会一直等到客服 张敏上线接入，或主管再次转接。"
    )
    expect(page.get_by_label("转接原因（下一位坐席可见）")).to_have_value("老客户，张敏跟进过")
    screenshot(page, "console-chat-transfer-offline-colleague")
    warning.get_by_role("button", name="仍转给客服 张敏").click()
    expect(page).to_have_url(f"{live_server.url}/console/inbox")
    context.close()

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    sign_in(live_server, page, "lina")
    page.goto(f"{live_server.url}/console/queues")
    customers = page.get_by_role("region", name="等待中的客户")
    expect(customers).to_contain_text("点名转给客服 张敏（离线），只等其本人接入")
    screenshot(page, "console-queues-named-offline")
    page.goto(f"{live_server.url}/console/queues?lang=en")
    expect(page.locator("#w-h + table")).to_contain_text(
        "Sent to 客服 张敏 by name (Offline): waits for them alone"
    )
    screenshot(page, "console-queues-named-offline-en")
    page.get_by_role("link", name="Transfer again").click()
    expect(page).to_have_url(f"{live_server.url}/console/chats/{conversation_id}#transfer-h")
    context.close()


def test_a_chat_waiting_for_a_colleague_not_online_promises_no_minutes_anywhere(
    live_server: LiveServer, browser: Browser, live_settings: Settings
) -> None:
    """The customer and the supervisor are told the same: the chat waits for 客服 张敏,
    with no minutes while she is offline (the queue had 主管 李娜 free, which counted as
    a wait of 0 for a chat only 张敏 may take), and her own estimate once she is online."""
    keys: dict[str, str] = {}
    conversation_id = held_chat(live_server, live_settings, keys)
    with live_server.sessions() as db:
        zhang = identity_service.create_staff(
            db, username="zhangmin", password=STAFF_PASSWORD, role="agent", display_name="客服 张敏"
        )
        conversation = db.get(Conversation, conversation_id)
        wang = identity_service.get_staff_by_username(db, "wang")
        assert conversation is not None and wang is not None
        live.transfer(
            db,
            conversation,
            wang,
            reason="老客户，张敏跟进过",
            to_staff=zhang,
            even_if_not_online=True,
            settings=live_settings,
        )
        db.commit()
    customer_ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    stored = {"id": keys["id"], "key": keys["key"], "lang": "zh-CN"}
    customer_ctx.add_init_script(
        f"localStorage.setItem('kefu.chat.' + location.origin, '{json.dumps(stored)}')"
    )
    customer = customer_ctx.new_page()
    customer.goto(f"{live_server.url}/chat")
    banner = customer.locator("#kefu-chat-widget .banner")
    expect(banner).to_have_text(
        "正在等待客服 张敏为您服务：客服 张敏目前不在线，上线后会接待您，暂时无法预计等待时间。"
        "您可以先留言，无需重复说明问题。"
    )
    screenshot(customer, "chat-widget-waiting-for-colleague")

    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = desk.new_page()
    sign_in(live_server, page, "lina")
    page.goto(f"{live_server.url}/console/queues")
    row = page.locator("#w-h + table tbody tr")
    expect(row.locator("td").nth(5).locator(".danger-text")).to_have_text(
        "无法预计：等客服 张敏上线"
    )
    screenshot(page, "console-queues-named-no-estimate")
    page.goto(f"{live_server.url}/console/queues?lang=en")
    expect(page.locator("#w-h + table tbody tr td").nth(5)).to_have_text(
        "No estimate: waits for 客服 张敏 to come online"
    )
    screenshot(page, "console-queues-named-no-estimate-en")

    with live_server.sessions() as db:
        named = identity_service.get_staff_by_username(db, "zhangmin")
        assert named is not None
        routing.set_presence(db, named, "online", settings=live_settings)
        db.commit()
    # offered to her now: the customer is next, in about a minute, on both sides
    expect(banner).to_have_text("正在为您转接人工客服 — 您排在第 1 位，预计约 1 分钟")
    # the supervisor reads the customer's "about 1 minute" as under a minute, not as 0 s
    page.goto(f"{live_server.url}/console/queues?lang=zh-CN")
    expect(page.locator("#w-h + table tbody tr td").nth(5)).to_have_text("不到 1 分钟")
    screenshot(page, "console-queues-wait-under-a-minute-zh-CN")
    page.goto(f"{live_server.url}/console/queues?lang=en")
    expect(page.locator("#w-h + table tbody tr td").nth(5)).to_have_text("Under a minute")
    screenshot(page, "console-queues-wait-under-a-minute-en")
    screenshot(customer, "chat-widget-colleague-online")
    customer_ctx.close()
    desk.close()


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_a_supervisor_offline_is_told_so_and_goes_online_to_take_a_chat_over(
    live_server: LiveServer, browser: Browser, live_settings: Settings, lang: str
) -> None:
    """Not the warning about a colleague not online, about herself: she is told she is
    offline, and one button sets her online and sends her the chat."""
    conversation_id = held_chat(live_server, live_settings)
    with live_server.sessions() as db:
        lina = identity_service.get_staff_by_username(db, "lina")
        assert lina is not None
        routing.set_presence(db, lina, "offline", settings=live_settings)
        db.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    sign_in(live_server, page, "lina")
    page.goto(f"{live_server.url}/console/chats/{conversation_id}?lang={lang}")
    t = lambda key, **params: translate(key, lang, **params)  # noqa: E731
    page.get_by_label(t("chat.console.transfer.to")).select_option(
        label=t("chat.console.transfer.myself", name="主管 李娜")
    )
    page.get_by_label(t("chat.console.transfer.reason")).fill("高风险客户，主管接管")
    page.locator("#transfer-h ~ form.stack button[type=submit]").click()
    warning = page.get_by_role("alert")
    offline = t("chat.presence.offline")
    expect(warning.locator("p")).to_have_text(
        t("chat.console.transfer.myself_not_online", presence=offline)
    )
    expect(warning).not_to_contain_text(t("chat.console.transfer.anyway", name="主管 李娜"))
    screenshot(page, f"console-chat-take-over-offline-{lang}")
    warning.get_by_role("button", name=t("chat.console.transfer.go_online")).click()
    expect(page).to_have_url(f"{live_server.url}/console/inbox")
    offers = page.get_by_role("region", name=t("chat.console.offers"))
    expect(offers.locator(".item.offer")).to_have_count(1)
    with live_server.sessions() as db:
        assert routing.presences(db, [lina.id]) == {lina.id: "online"}
    context.close()
