"""Pages whose deferred script takes over a control: before the script runs (a slow
network, a click at once after loading) the control either does nothing or does the
right thing natively, never the wrong thing. A script held back or refused by the
browser stands for that moment."""

from __future__ import annotations

from playwright.sync_api import Browser, expect
from tests.web.conftest import LiveServer, an_agents_chat, held, screenshot
from tests.web.staff_login import make_and_sign_in, sign_in

from kefu import audit
from kefu.cases import service as cases_service
from kefu.chat import service as chat_service
from kefu.config import get_settings
from kefu.identity import service as identity_service
from kefu.kb import service as kb_service


def test_the_agents_chat_sends_only_once_its_script_sends(
    live_server: LiveServer, browser: Browser
) -> None:
    with live_server.sessions() as db:
        conversation = chat_service.start(db, channel="web", language="zh-CN")
        chat_service.append(db, conversation, sender="customer", text="充值没到账")
        db.commit()
        chat_url = f"{live_server.url}/console/chats/{conversation.id}"
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    make_and_sign_in(
        live_server, page, username="lina", role="supervisor", display_name="主管 李娜"
    )

    # the composer has no server route: before the script, a click reloaded the page with
    # the reply in its address and the reply was lost
    page.route("**/static/chat/console.js", lambda route: route.abort())
    page.goto(chat_url)
    page.get_by_label("回复", exact=True).fill("先查一下充值记录")
    expect(page.get_by_role("button", name="发送")).to_be_disabled()
    screenshot(page, "console-chat-before-script")
    page.unroute("**/static/chat/console.js")

    page.goto(chat_url)
    page.get_by_label("回复", exact=True).fill("先查一下充值记录")
    page.get_by_role("button", name="发送").click()
    expect(page.get_by_role("log").locator(".msg.internal")).to_contain_text("先查一下充值记录")
    assert page.url == chat_url
    screenshot(page, "console-chat-sent-after-script")
    context.close()


def test_the_end_of_chat_summary_keeps_what_was_done_before_its_script_ran(
    live_server: LiveServer, browser: Browser
) -> None:
    """An outcome chosen before console.js ran gets its draft; words typed before it stay
    when the outcome changes after (it took them for its own draft)."""
    with live_server.sessions() as db:
        conversation = chat_service.start(db, channel="web", language="zh-CN")
        chat_service.append(db, conversation, sender="customer", text="充值没到账")
        conversation.status = "active"
        db.commit()
        chat_url = f"{live_server.url}/console/chats/{conversation.id}"
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    make_and_sign_in(
        live_server, page, username="lina", role="supervisor", display_name="主管 李娜"
    )
    summary = page.get_by_label("发给客户的小结（可修改）")
    waiting = page.get_by_label("等待客户回复或补充材料")

    with held(page, "/static/chat/console.js") as release:
        page.goto(chat_url, wait_until="commit")
        waiting.check()
        release()
        page.wait_for_load_state("load")
    expect(summary).to_have_value(waiting.get_attribute("data-summary") or "")

    with held(page, "/static/chat/console.js") as release:
        page.goto(chat_url, wait_until="commit")
        summary.fill("已核实充值记录，银行处理中，今天内给您答复。")
        release()
        page.wait_for_load_state("load")
    waiting.check()
    page.get_by_label("继续跟进（工单保持处理中）").check()
    expect(summary).to_have_value("已核实充值记录，银行处理中，今天内给您答复。")
    screenshot(page, "console-chat-summary-typed-before-script")
    context.close()


def test_buttons_only_a_script_can_serve_wait_for_it(
    live_server: LiveServer, browser: Browser
) -> None:
    """A help article's votes and a case's canned-reply buttons do nothing without their
    script: they are shown disabled until it runs, not taking a click that goes nowhere."""
    with live_server.sessions() as db:
        kb_service.load_shipped_articles(db)
        slug = kb_service.list_articles(db, lang="zh-CN")[0].slug
        customer = identity_service.create_customer(
            db, wallet_account_id="W700800901", name="刘洋", phone="13800001235"
        )
        case = cases_service.open_case(
            db,
            new=cases_service.NewCase(
                customer_id=customer.id,
                category="recharge_not_credited",
                channel="web",
                subject="充值没到账",
            ),
            actor=audit.Actor(name=f"customer:{customer.id}", role="customer"),
            settings=get_settings(),
        )
        db.commit()
        pages = {
            "/static/help.js": (f"/help/articles/{slug}", "有帮助", "help-article"),
            "/static/cases.js": (f"/console/cases/{case.reference}", "问候", "console-case"),
        }
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    make_and_sign_in(live_server, page, username="xiaowang", role="agent", display_name="坐席 小王")
    for script, (path, name, shot) in pages.items():
        button = page.get_by_role("button", name=name).first
        canned = page.locator("details:has(.canned-list)")  # the case page's, folded
        page.route(f"**{script}", lambda route: route.abort())
        page.goto(f"{live_server.url}{path}")
        canned.evaluate_all("(all) => all.forEach((box) => { box.open = true; })")
        expect(button).to_be_disabled()
        screenshot(page, f"{shot}-before-script")
        page.unroute(f"**{script}")
        page.goto(f"{live_server.url}{path}")
        canned.evaluate_all("(all) => all.forEach((box) => { box.open = true; })")
        expect(button).to_be_enabled()
    context.close()


def test_canned_replies_opened_before_the_chats_script_ran_are_listed(
    live_server: LiveServer, browser: Browser
) -> None:
    """The box lists replies when it opens; opened before console.js ran, it stayed empty
    until the agent typed a search."""
    chat_url = an_agents_chat(live_server)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    sign_in(live_server, page, "xiaoli")
    with held(page, "/static/chat/console.js") as release:
        page.goto(chat_url, wait_until="commit")
        page.get_by_text("快捷回复（知识库）", exact=True).click()
        release()
        page.wait_for_load_state("load")
    expect(page.locator("#canned-results li").first).to_contain_text("问候")
    screenshot(page, "console-chat-canned-opened-before-script")
    context.close()
