"""Canned replies in a browser: an admin writes a shared reply in both languages, a
variable that does not exist is refused in the form; an agent sees the page on a phone."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect
from tests.web.conftest import LiveServer, screenshot
from tests.web.staff_login import make_and_sign_in


def test_admin_writes_a_shared_reply(live_server: LiveServer, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    make_and_sign_in(live_server, page, username="boss", role="admin", display_name="管理员 周")
    page.get_by_text("管理", exact=True).click()
    page.get_by_role("link", name="快捷回复").click()
    editor = page.get_by_role("region", name="新建快捷回复")
    editor.get_by_label("类别").select_option("refund")
    editor.get_by_label("共享（全体坐席）").check()
    zh, en = editor.locator("fieldset[lang=zh-CN]"), editor.locator("fieldset[lang=en]")
    zh.get_by_label("标题").fill("退款进度")
    zh.get_by_label("回复内容").fill(
        "{customer_name}您好，工单 {reference} 会在 {committed_time} 前处理。"
    )
    en.get_by_label("标题").fill("Refund progress")
    en.get_by_label("回复内容").fill(
        "Hello {name}, case {reference} is handled by {committed_time}."
    )
    editor.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_contain_text("{name} 不是可用的变量")
    en = page.get_by_role("region", name="新建快捷回复").locator("fieldset[lang=en]")
    en.get_by_label("回复内容").fill(
        "Hello {customer_name}, case {reference} is handled by {committed_time}."
    )
    page.get_by_role("region", name="新建快捷回复").get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_contain_text("快捷回复已创建")
    expect(page.get_by_role("row", name="退款进度")).to_contain_text("共享")
    screenshot(page, "canned-admin-desktop")
    context.close()


def test_an_agent_keeps_their_own_on_a_phone(live_server: LiveServer, page: Page) -> None:
    make_and_sign_in(live_server, page, username="agent3", role="agent", display_name="坐席 三")
    page.get_by_role("link", name="快捷回复").click()
    editor = page.get_by_role("region", name="新建快捷回复")
    expect(editor.get_by_label("共享（全体坐席）")).to_have_count(0)
    screenshot(page, "canned-agent-phone")
