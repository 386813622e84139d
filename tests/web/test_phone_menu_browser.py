"""The phone menu editor in a browser: an admin edits a prompt, sees a dead end refused
with the reason, fixes it, tries the draft in the phone simulator (asking for a person
there rings no agent), publishes it and rolls back; an agent gets the 403 page."""

from __future__ import annotations

import json

from playwright.sync_api import Browser, Page, expect
from tests.web.a11y import problems
from tests.web.conftest import LiveServer, screenshot
from tests.web.staff_login import make_and_sign_in

DRAFT_INTRO = "欢迎致电草稿热线，请选择服务。"


def test_admin_edits_tries_publishes_and_rolls_back_the_menu(
    live_server: LiveServer, browser: Browser
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    make_and_sign_in(live_server, page, username="boss", role="admin", display_name="管理员 周")
    page.get_by_text("管理", exact=True).click()
    page.get_by_role("link", name="电话菜单").click()
    expect(page.get_by_role("heading", name="电话菜单", exact=True)).to_be_visible()
    expect(page.get_by_role("region", name="正在使用的版本")).to_contain_text("第 1 版")

    main = page.locator("#node-main")
    main.get_by_text("修改此节点（文案与去向）").click()
    main.get_by_label("中文").first.fill(DRAFT_INTRO)
    main.get_by_label("英文").first.fill("Welcome to the draft hotline.")
    main.get_by_role("button", name="检查并保存此节点").click()
    expect(page.get_by_role("status")).to_have_text("此节点已保存到草稿。")
    expect(page.locator("#draft")).to_contain_text("草稿有未发布的改动")
    expect(page.locator("#node-main")).to_contain_text(DRAFT_INTRO)

    editor = page.get_by_label("菜单树（JSON）")
    assert json.loads(editor.input_value())["nodes"]["main"]["intro"]["zh-CN"] == DRAFT_INTRO

    # a message that leads back to itself: a dead end, refused in the node's form
    node = page.locator("#node-password_help")
    node.get_by_text("修改此节点（文案与去向）").click()
    node.get_by_label("然后转到").select_option("password_help")
    node.get_by_role("button", name="检查并保存此节点").click()
    node = page.locator("#node-password_help")
    expect(node.get_by_role("alert")).to_contain_text(
        "节点「password_help」是死路：从它出发无法转到人工。"
    )
    expect(node.get_by_label("然后转到")).to_have_value("password_help")  # as chosen
    assert problems(page) == []
    screenshot(page, "phonemenu-refused-desktop")
    node.get_by_label("然后转到").select_option("account")
    node.get_by_role("button", name="检查并保存此节点").click()
    expect(page.get_by_role("status")).to_have_text("此节点已保存到草稿。")

    # a key that goes nowhere, typed in the JSON: refused with the key named
    editor = page.get_by_label("菜单树（JSON）")
    tree = json.loads(editor.input_value())
    tree["nodes"]["money"]["options"][0]["to"] = "balanse"
    editor.fill(json.dumps(tree, ensure_ascii=False, indent=2))
    page.get_by_role("button", name="检查并保存草稿").click()
    alert = page.get_by_role("region", name="以 JSON 编辑整棵树").get_by_role("alert")
    expect(alert).to_contain_text("菜单「money」：按键 1 指向的节点「balanse」不存在")

    page.get_by_role("link", name="在电话模拟器中试用草稿").click()
    expect(page.get_by_role("note")).to_contain_text("您正在试用草稿")
    transcript = page.locator("#sim-transcript")
    page.get_by_role("button", name="拨打").click()
    expect(transcript).to_contain_text("普通话服务请按一")
    page.get_by_role("group", name="拨号键盘").get_by_role("button", name="1", exact=True).click()
    expect(transcript).to_contain_text(DRAFT_INTRO)
    # asking for a person on a trial call says who would answer, and rings no agent
    page.get_by_role("group", name="拨号键盘").get_by_role("button", name="0", exact=True).click()
    expect(transcript).to_contain_text("试拨：正式来电会在这里转接人工客服")
    expect(page.get_by_role("status")).to_have_text("通话已结束")
    screenshot(page, "phonemenu-trial-desktop")
    page.get_by_role("link", name="返回电话菜单").click()

    publish = page.get_by_role("form", name="发布草稿")
    publish.get_by_label("说明").fill("春节菜单")
    publish.get_by_role("button", name="发布").click()
    expect(page.get_by_role("status")).to_have_text("已发布，新来电将使用新版本。")
    expect(page.get_by_role("region", name="正在使用的版本")).to_contain_text("第 2 版")
    expect(page.get_by_role("region", name="正在使用的版本")).to_contain_text("春节菜单")

    page.locator("#version-1").get_by_role("button", name="回滚到第 1 版").click()
    expect(page.get_by_role("status")).to_have_text("已回滚，新来电将使用恢复的版本。")
    live = page.get_by_role("region", name="正在使用的版本")
    expect(live).to_contain_text("第 3 版")
    expect(live).to_contain_text("回滚到第 1 版")
    expect(page.locator("#node-main")).not_to_contain_text(DRAFT_INTRO)

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.get_by_role("heading", name="电话菜单", exact=True)).to_be_visible()
    assert problems(page) == []
    screenshot(page, "phonemenu-phone")
    context.close()


def test_agents_get_the_403_page_for_the_phone_menu(live_server: LiveServer, page: Page) -> None:
    make_and_sign_in(live_server, page, username="agent9", role="agent", display_name="坐席 九")
    response = page.goto(f"{live_server.url}/console/phone-menu")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="没有权限")).to_be_visible()
