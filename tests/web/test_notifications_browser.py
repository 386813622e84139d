"""Notifications in Debian's Chromium: a notification raised for agent B (a colleague names
them in a case note) appears live on both of B's open console pages — the count in the
navigation and the tab title, the panel with read/unread — and reading it on one page
clears the count on the other. The inbox shares its own console socket with the bell.
Desktop and phone-sized screenshots."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Page, expect
from tests.factories import STAFF_PASSWORD
from tests.web.conftest import LiveServer, screenshot

from kefu import audit
from kefu.cases import service as cases_service
from kefu.cases import work
from kefu.config import get_settings
from kefu.identity import service as identity_service


def seed(server: LiveServer) -> str:
    with server.sessions() as db:
        for username, name in (("zhangmin", "客服 张敏"), ("lisi", "客服 李四")):
            identity_service.create_staff(
                db, username=username, password=STAFF_PASSWORD, role="agent", display_name=name
            )
        customer = identity_service.create_customer(
            db, wallet_account_id="W200300400", name="王小明", phone="13800000001"
        )
        case = cases_service.open_case(
            db,
            new=cases_service.NewCase(
                customer_id=customer.id,
                category="recharge_not_credited",
                channel="web",
                subject="充值500元未到账",
            ),
            actor=audit.Actor.system(),
            settings=get_settings(),
        )
        db.commit()
        return case.reference


def sign_in(context: BrowserContext, server: LiveServer, username: str) -> Page:
    page = context.new_page()
    page.goto(f"{server.url}/console/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(STAFF_PASSWORD)
    page.get_by_label("密码").press("Enter")
    expect(page.get_by_role("heading", name="坐席工作台")).to_be_visible()
    return page


def mention(server: LiveServer, reference: str, text: str) -> None:
    with server.sessions() as db:
        case = cases_service.get_case(db, reference)
        work.note(db, case, body=text, actor=audit.Actor(name="staff:zhangmin", role="agent"))
        db.commit()


def test_a_notification_for_b_shows_live_on_bs_other_page(
    live_server: LiveServer, browser: Browser
) -> None:
    reference = seed(live_server)
    desk = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    try:
        home = sign_in(desk, live_server, "lisi")
        inbox = desk.new_page()
        sockets: list[str] = []
        inbox.on("websocket", lambda socket: sockets.append(socket.url))
        inbox.goto(f"{live_server.url}/console/inbox")
        on_phone = sign_in(phone, live_server, "lisi")
        bell = home.get_by_role("link", name="通知")
        expect(bell).to_be_visible()
        expect(home.locator("#notif-count")).to_be_hidden()
        for page in (home, inbox, on_phone):  # every page's socket is listening
            expect(page.locator("#notif-empty")).to_be_attached()
        inbox.wait_for_timeout(500)

        mention(live_server, reference, "@lisi 客户说银行已扣款，请帮忙核对流水")
        for page in (home, inbox, on_phone):
            expect(page.locator("#notif-count")).to_have_text("1")
            expect(page).to_have_title(re.compile(r"^\(1\) "))

        bell.click()
        item = home.locator("#notif-list .notif-item").first
        expect(item).to_have_class(re.compile("is-unread"))
        expect(item).to_contain_text("提到我")
        expect(item).to_contain_text(f"客服 张敏 在工单 {reference} 的备注中提到了您")
        expect(home.get_by_role("button", name="开启桌面通知")).to_be_visible()
        screenshot(home, "console-notifications-panel")
        on_phone.get_by_role("link", name="通知").click()
        expect(on_phone.locator("#notif-list")).to_contain_text(reference)
        screenshot(on_phone, "console-notifications-panel-phone")

        home.get_by_role("button", name="全部标为已读").click()
        expect(item).to_have_class(re.compile("is-read"))
        for page in (home, inbox, on_phone):  # read on one page: the count goes everywhere
            expect(page.locator("#notif-count")).to_be_hidden()
            expect(page).not_to_have_title(re.compile(r"^\("))
        # the inbox's own console socket carries the bell's frames: one socket, not two
        assert len(sockets) == 1 and urlsplit(sockets[0]).path == "/ws/console", sockets

        inbox.goto(f"{live_server.url}/console/notifications")
        expect(inbox.get_by_role("heading", name="通知")).to_be_visible()
        expect(inbox.locator(".notif-list-page .notif-item")).to_have_count(1)
        expect(inbox.locator(".notif-list-page")).to_contain_text("已读")
        screenshot(inbox, "console-notifications-page")
    finally:
        desk.close()
        phone.close()
