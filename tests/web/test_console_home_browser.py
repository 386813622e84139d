"""The console home per role in a browser, and the 403 page an agent gets."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect
from tests.web.conftest import LiveServer, screenshot
from tests.web.staff_login import make_and_sign_in

from kefu.chat import routing


def test_admin_home_shows_adapter_health(live_server: LiveServer, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    make_and_sign_in(live_server, page, username="admin1", role="admin", display_name="管理员 周")
    health = page.get_by_role("region", name="系统与渠道状态")
    expect(health).to_be_visible()
    expect(health.get_by_role("row", name="数据库")).to_contain_text("正常")
    expect(health.get_by_role("row", name="后台任务队列")).to_be_visible()
    expect(health.get_by_role("row", name="短信")).to_contain_text("未接入")
    expect(page.get_by_role("region", name="实时队列")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("wallet.act")
    screenshot(page, "console-home-admin-desktop")
    page.goto(f"{live_server.url}/console?lang=en")
    expect(page.get_by_role("region", name="Systems and channels")).to_be_visible()
    context.close()


def test_agent_home_on_a_phone_and_the_403_page(live_server: LiveServer, page: Page) -> None:
    make_and_sign_in(live_server, page, username="agent1", role="agent", display_name="坐席 小陈")
    work = page.get_by_role("region", name="我的待办")
    expect(work).to_contain_text("我的未结工单")
    expect(work).to_contain_text("待回电")
    expect(page.get_by_role("region", name="系统与渠道状态")).to_have_count(0)
    expect(page.get_by_text("管理", exact=True)).to_have_count(0)
    screenshot(page, "console-home-agent-phone")
    response = page.goto(f"{live_server.url}/console/queues")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="没有权限")).to_be_visible()
    page.get_by_role("link", name="返回坐席工作台").click()
    expect(page.get_by_role("region", name="我的待办")).to_be_visible()
    screenshot(page, "console-403-agent-phone")


def test_an_offline_agent_sees_the_chat_waiting_in_their_queue(
    live_server: LiveServer, browser: Browser
) -> None:
    with live_server.sessions() as db:
        routing.enqueue(db, kind="chat", language="zh-CN", category="recharge_not_credited")
        db.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    make_and_sign_in(live_server, page, username="agent2", role="agent", display_name="坐席 小李")
    work = page.get_by_role("region", name="我的待办")
    queued = work.locator("li.figure", has_text="我的队列中等待的客户")
    expect(queued.locator(".figure-count")).to_have_text("1")
    offered = work.locator("li.figure", has_text="等我接入的客户")
    expect(offered.locator(".figure-count")).to_have_text("0")
    expect(work.get_by_role("status")).to_contain_text(
        "您现在是「离线」：排队的客户只分配给在线的客服"
    )
    screenshot(page, "console-home-agent-offline-queue")
    work.get_by_role("link", name="到收件箱上线").click()
    expect(page).to_have_url(f"{live_server.url}/console/inbox")
    expect(page.get_by_label("状态")).to_have_value("offline")
    context.close()
