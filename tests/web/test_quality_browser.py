"""The quality dashboard in Chromium: today live, trends with the chart drawn by the npm
chart library, a drill-down from a figure, the staffing calculator, in Chinese and English."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from tests.factories import STAFF_PASSWORD
from tests.web.conftest import LiveServer, screenshot

from kefu.config import get_settings
from kefu.db import utcnow
from kefu.identity import service as identity_service
from kefu.quality import demo


def _seed(server: LiveServer) -> None:
    with server.sessions() as db:
        identity_service.create_staff(
            db,
            username="lina",
            password=STAFF_PASSWORD,
            role="supervisor",
            display_name="主管 李娜",
        )
        identity_service.create_staff(
            db, username="min", password=STAFF_PASSWORD, role="agent", display_name="客服 张敏"
        )
        identity_service.create_customer(
            db, wallet_account_id="W100200300", name="王小明", phone="13800000001"
        )
        db.commit()
        demo.seed_history(db, settings=get_settings(), now=utcnow(), days=7, per_day=12)
        db.commit()


def _sign_in(page: Page, server: LiveServer, then: str) -> None:
    page.goto(f"{server.url}/console/login")
    page.get_by_label("用户名").fill("lina")
    page.get_by_label("密码").fill(STAFF_PASSWORD)
    page.get_by_label("密码").press("Enter")
    expect(page).to_have_url(f"{server.url}/console")
    if then != "/console":
        page.goto(f"{server.url}{then}")


def test_supervisor_reads_the_dashboard(live_server: LiveServer, page: Page) -> None:
    _seed(live_server)
    page.set_viewport_size({"width": 1280, "height": 900})
    _sign_in(page, live_server, "/console")
    page.get_by_role("link", name="服务质量").click()
    expect(page.get_by_role("heading", name="今日实况")).to_be_visible()
    expect(page.get_by_text("正在排队")).to_be_visible()
    screenshot(page, "quality-live-zh")

    page.get_by_role("link", name="趋势与报表").click()
    expect(page.locator("#q-trend-chart")).to_have_attribute("data-drawn", "true")
    rows = page.locator("table.q-table tbody tr")
    expect(rows).to_have_count(7)  # the last 7 days, today included, one row each
    # the demo filled the 7 days before today with 12 contacts each; 6 are in range
    expect(page.locator("table.q-table tfoot td").first).to_have_text("72")
    screenshot(page, "quality-trends-zh")

    page.get_by_label("分组").select_option("channel")
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_role("rowheader", name="电话")).to_be_visible()
    phone = page.get_by_role("row", name="电话")
    phone.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="明细: 接入量")).to_be_visible()
    expect(page.locator("table.q-table tbody tr").first).to_contain_text("电话")
    screenshot(page, "quality-drill-zh")

    page.goto(
        f"{live_server.url}/console/quality/staffing?lang=en&contacts=100&aht=180&shrinkage=0"
    )
    expect(page.locator("#q-agents")).to_have_text("14")
    expect(page.locator("#q-plan-chart")).to_have_attribute("data-drawn", "true")
    page.get_by_label("Service level target (%)").fill("90")
    page.get_by_role("button", name="Calculate").click()
    expect(page.locator("#q-agents")).to_have_text("15")
    screenshot(page, "quality-staffing-en")


def test_the_trends_page_on_a_phone_in_english(live_server: LiveServer, page: Page) -> None:
    _seed(live_server)
    _sign_in(page, live_server, "/console/quality/trends?lang=en")
    expect(page.get_by_role("heading", name="Trends and reports")).to_be_visible()
    expect(page.locator("#q-trend-chart")).to_have_attribute("data-drawn", "true")
    page.get_by_label("From", exact=True).fill("2026-03-09")
    page.get_by_label("To", exact=True).fill("2026-03-01")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("alert")).to_contain_text("Check the dates")
    screenshot(page, "quality-trends-error-en")
