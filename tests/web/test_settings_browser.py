"""The read-only settings page in a browser, on a desktop and a phone."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect
from tests.web.conftest import LiveServer, screenshot
from tests.web.staff_login import make_and_sign_in


def test_admin_reads_the_settings(live_server: LiveServer, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    make_and_sign_in(live_server, page, username="boss", role="admin", display_name="管理员 周")
    page.get_by_text("管理", exact=True).click()
    page.get_by_role("link", name="系统设置").click()
    expect(page.get_by_role("heading", name="系统设置（只读）")).to_be_visible()
    row = page.get_by_role("row", name="KEFU_SECRET_KEY")
    expect(row).to_contain_text("已设置（已隐藏）")
    expect(page.get_by_role("row", name="KEFU_DEMO")).to_contain_text("True")
    screenshot(page, "settings-admin-desktop")
    context.close()


def test_settings_on_a_phone(live_server: LiveServer, page: Page) -> None:
    make_and_sign_in(live_server, page, username="boss2", role="admin", display_name="管理员 吴")
    page.goto(f"{live_server.url}/console/settings?lang=en")
    expect(page.get_by_role("heading", name="Settings (read-only)")).to_be_visible()
    screenshot(page, "settings-admin-phone-en")
