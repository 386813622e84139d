"""SLA and hours in a browser: the targets grid, the preview, hours that do not parse and
an overlapping holiday refused in the form; an agent gets the 403 page."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect
from tests.web.conftest import LiveServer, screenshot
from tests.web.staff_login import make_and_sign_in


def test_admin_sets_hours_and_holidays(live_server: LiveServer, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    make_and_sign_in(live_server, page, username="boss", role="admin", display_name="管理员 周")
    page.get_by_text("管理", exact=True).click()
    page.get_by_role("link", name="时效与工作时间").click()
    expect(page.get_by_role("heading", name="服务时效（SLA）与工作时间")).to_be_visible()
    page.get_by_role("row", name="退款").get_by_role("link").nth(2).click()
    expect(page.get_by_role("status")).to_contain_text("如果现在")
    hours = page.get_by_role("region", name="工作时间", exact=True)
    hours.get_by_label("每周开放时间").fill("mon-fri 9点-18点")
    hours.get_by_role("button", name="保存工作时间").click()
    expect(page.get_by_role("alert")).to_contain_text("看不懂")
    hours = page.get_by_role("region", name="工作时间", exact=True)
    hours.get_by_label("每周开放时间").fill("mon-sat 08:30-20:00")
    hours.get_by_role("button", name="保存工作时间").click()
    expect(page.get_by_text("工作时间已保存。")).to_be_visible()
    holidays = page.get_by_role("region", name="节假日")
    holidays.get_by_label("名称").fill("国庆节")
    holidays.get_by_label("日期").fill("2027-10-01..2027-10-03")
    holidays.get_by_role("button", name="添加节假日").click()
    expect(page.get_by_role("region", name="节假日")).to_contain_text("2027-10-03")
    holidays = page.get_by_role("region", name="节假日")
    holidays.get_by_label("名称").fill("调休")
    holidays.get_by_label("日期").fill("2027-10-03\n2027-10-09")
    holidays.get_by_role("button", name="添加节假日").click()
    expect(page.get_by_role("alert")).to_contain_text("2027-10-03 已经是节假日")
    screenshot(page, "sla-admin-desktop")
    context.close()


def test_agents_get_the_403_page_for_sla(live_server: LiveServer, page: Page) -> None:
    make_and_sign_in(live_server, page, username="agent9", role="agent", display_name="坐席 九")
    response = page.goto(f"{live_server.url}/console/sla")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="没有权限")).to_be_visible()
