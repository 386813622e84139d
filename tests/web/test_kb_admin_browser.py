"""The knowledge-base editor in a browser: zh and en side by side with the live preview,
a save, the version diff, and an article written for a search that found nothing."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect
from tests.web.conftest import LiveServer, screenshot
from tests.web.staff_login import make_and_sign_in

from kefu.kb import service as kb_service


def test_edit_preview_publish_and_the_missed_searches(
    live_server: LiveServer, browser: Browser
) -> None:
    with live_server.sessions() as db:
        kb_service.load_shipped_articles(db)
        db.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/help/search?q=数字人民币")  # a customer finds no answer
    make_and_sign_in(live_server, page, username="boss", role="admin", display_name="管理员 周")
    page.get_by_text("管理", exact=True).click()
    page.get_by_role("link", name="知识库").click()
    expect(page.get_by_role("heading", name="知识库")).to_be_visible()
    expect(page.get_by_role("region", name="客户搜了但没找到")).to_contain_text("数字人民币")
    screenshot(page, "kb-list-admin-desktop")

    page.get_by_role("link", name=re.compile("退款")).first.click()
    # The preview's script is deferred: typing before the page has loaded would go unseen.
    page.wait_for_url(re.compile(r"/console/kb/[^/?]+$"), wait_until="load")
    zh = page.locator("fieldset[lang=zh-CN]")
    zh.get_by_label("正文（Markdown）").fill("怎么做：先看 **退款记录**。\n- 第一步\n- 第二步")
    expect(zh.locator(".kb-preview strong").first).to_have_text("怎么做：")
    expect(zh.locator(".kb-preview")).to_contain_text("退款记录")
    expect(zh.locator(".kb-preview li")).to_have_count(2)
    screenshot(page, "kb-editor-admin-desktop")
    page.get_by_role("button", name="保存两种语言").click()
    expect(page.get_by_role("status")).to_contain_text("已保存")
    page.get_by_role("link", name="中文版本历史").click()
    expect(page.locator(".kb-diff ins").first).to_be_visible()
    expect(page.get_by_role("button", name="恢复为第 1 版")).to_have_count(0)  # at the newest
    page.get_by_role("link", name="第 1 版").click()
    expect(page.get_by_role("button", name="恢复为第 1 版")).to_be_visible()

    page.goto(f"{live_server.url}/console/kb/misses")
    page.get_by_role("link", name="写这篇文章").first.click()
    page.get_by_label("文章地址（英文）").fill("e-cny")
    page.locator("fieldset[lang=zh-CN]").get_by_label("正文（Markdown）").fill(
        "数字人民币钱包暂不支持。"
    )
    en = page.locator("fieldset[lang=en]")
    en.get_by_label("标题").fill("Digital RMB (e-CNY)")
    en.get_by_label("正文（Markdown）").fill("We do not support e-CNY wallets yet.")
    page.get_by_role("button", name="创建草稿").click()
    expect(page.get_by_role("status")).to_contain_text("草稿已创建")
    page.get_by_role("button", name="发布").click()
    expect(page.get_by_role("status")).to_contain_text("已发布")
    page.goto(f"{live_server.url}/help/articles/e-cny?lang=zh-CN")
    expect(page.get_by_role("heading", name="数字人民币")).to_be_visible()
    context.close()


def test_the_editor_on_a_phone(live_server: LiveServer, browser: Browser) -> None:
    with live_server.sessions() as db:
        kb_service.load_shipped_articles(db)
        db.commit()
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    make_and_sign_in(live_server, page, username="boss", role="admin", display_name="Admin Zhou")
    page.goto(f"{live_server.url}/console/kb/refund?lang=en")
    expect(page.get_by_role("button", name="Save both languages")).to_be_visible()
    screenshot(page, "kb-editor-admin-phone-en")
    context.close()
