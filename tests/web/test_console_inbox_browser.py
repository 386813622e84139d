"""The agent's inbox in pick mode (agents take waiting customers themselves), in a browser:
a chat transferred to a colleague by name is shown as theirs, taking it from a page
left open is refused in words, and so is a take beyond the agent's limit; a reload of the
refusal posts nothing. An agent who is not online gets no take button until they go
online, and passing on an offer no longer theirs says why. The top bar names the console
in both languages."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from tests.factories import STAFF_PASSWORD
from tests.web.conftest import LiveServer, held, screenshot
from tests.web.staff_login import make_and_sign_in, sign_in

from kefu.chat import routing
from kefu.chat.routing_models import WorkItem
from kefu.config import Settings, get_settings
from kefu.identity import service as identity_service
from kefu.identity.models import StaffUser


@pytest.fixture
def live_settings() -> Settings:
    return Settings(**{**get_settings().model_dump(), "demo": True, "routing_mode": "pick"})


def _agent_without_scripts(
    live_server: LiveServer, browser: Browser, username: str, display_name: str
) -> tuple[BrowserContext, Page]:
    """An agent signed in to a browser without scripts: the inbox stays as loaded, as a
    page left open does, and each press posts its form."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", java_script_enabled=False
    )
    page = context.new_page()
    make_and_sign_in(live_server, page, username=username, role="agent", display_name=display_name)
    return context, page


def test_a_chat_sent_to_a_colleague_by_name_is_not_taken_from_a_stale_page(
    live_server: LiveServer, browser: Browser, live_settings: Settings
) -> None:
    settings = live_settings  # the settings the server runs with
    with live_server.sessions() as db:
        zhang = identity_service.create_staff(
            db, username="zhangmin", password=STAFF_PASSWORD, role="agent", display_name="客服 张敏"
        )
        routing.set_presence(db, zhang, "away", settings=settings)
        item = routing.enqueue(
            db, kind="chat", language="zh-CN", category="recharge_not_credited", settings=settings
        )
        db.commit()
        item_id = item.id
    context, page = _agent_without_scripts(live_server, browser, "agent3", "坐席 小王")
    with live_server.sessions() as db:
        agent = identity_service.get_staff_by_username(db, "agent3")
        assert agent is not None
        routing.set_presence(db, agent, "online", settings=settings)
        db.commit()
    page.goto(f"{live_server.url}/console/inbox")
    queue = page.get_by_role("region", name="待分配队列")
    take = queue.get_by_role("button", name="领取")
    expect(take).to_have_count(1)

    with live_server.sessions() as db:
        supervisor = identity_service.create_staff(
            db, username="lina", password=STAFF_PASSWORD, role="supervisor"
        )
        waiting = db.get(WorkItem, item_id)
        named = db.get(StaffUser, zhang.id)
        assert waiting is not None and named is not None
        routing.transfer(
            db,
            waiting,
            by=supervisor,
            reason="老客户，张敏跟进过",
            to_staff=named,
            even_if_not_online=True,
            settings=settings,
        )
        db.commit()
    take.click()
    refused = (
        "这位客户已点名转接给客服 张敏，只有客服 张敏可以接入。需要改派时，主管可在会话页重新转接。"
    )
    expect(page.get_by_role("alert")).to_have_text(refused)
    # the take redirected to the inbox: a reload there posts nothing and still says why
    expect(page).to_have_url(f"{live_server.url}/console/inbox?not_taken={item_id}")
    page.reload()
    expect(page.get_by_role("alert")).to_have_text(refused)
    queue = page.get_by_role("region", name="待分配队列")
    # her status beside her name, marked while she is not online, as on the live queues
    note = queue.locator("p.danger-text")
    expect(note).to_have_text("已点名转接给客服 张敏（暂离），由其本人接入")
    expect(queue.get_by_role("button", name="领取")).to_have_count(0)
    screenshot(page, "console-inbox-pick-sent-by-name")
    with live_server.sessions() as db:
        named = db.get(StaffUser, zhang.id)
        assert named is not None
        routing.set_presence(db, named, "online", settings=settings)
        db.commit()
    page.goto(f"{live_server.url}/console/inbox?lang=en")
    queue = page.get_by_role("region", name="Unassigned queue")
    expect(queue.locator("p.muted", has_text="Transferred to 客服 张敏 by name")).to_have_text(
        "Transferred to 客服 张敏 by name (Online): theirs to take"
    )
    expect(queue.locator("p.danger-text")).to_have_count(0)
    screenshot(page, "console-inbox-pick-sent-by-name-online-en")
    context.close()


def test_a_take_refused_at_the_agents_limit_says_so_and_a_reload_takes_nothing(
    live_server: LiveServer, browser: Browser, live_settings: Settings
) -> None:
    settings = live_settings  # the settings the server runs with
    context, page = _agent_without_scripts(live_server, browser, "agent4", "坐席 小李")
    with live_server.sessions() as db:
        agent = identity_service.get_staff_by_username(db, "agent4")
        assert agent is not None
        routing.set_presence(db, agent, "online", settings=settings)
        routing.profile(db, agent).capacity = 1
        first, second = (
            routing.enqueue(
                db,
                kind="chat",
                language="zh-CN",
                category="recharge_not_credited",
                settings=settings,
            )
            for _ in range(2)
        )
        db.commit()
        first_id, second_id = first.id, second.id
    page.goto(f"{live_server.url}/console/inbox?lang=en")
    take_second = page.locator(f'form[action="/console/work/{second_id}/accept"] button')
    expect(take_second).to_have_text("Take")

    with live_server.sessions() as db:  # the agent's one place fills meanwhile
        agent = identity_service.get_staff_by_username(db, "agent4")
        served = db.get(WorkItem, first_id)
        assert agent is not None and served is not None
        routing.accept(db, served, agent, settings=settings)
        db.commit()
    take_second.click()
    expect(page.get_by_role("alert")).to_have_text(
        "You are at your limit of customers at once (1). "
        "Finish or transfer one of the customers you are serving, then take this one."
    )
    expect(page).to_have_url(f"{live_server.url}/console/inbox?not_taken={second_id}")
    # the top bar names the console, not the customers' help center
    expect(page.locator("header .brand")).to_have_text("Kefu agent console")
    expect(page).to_have_title("Inbox · Kefu agent console")
    screenshot(page, "console-inbox-refused-at-limit-en")
    page.goto(f"{live_server.url}/console/inbox?lang=zh-CN&not_taken={second_id}")
    expect(page.get_by_role("alert")).to_have_text(
        "您已达到同时接待上限（1 位客户）。请先结束或转接一位正在接待的客户，再接入这位客户。"
    )
    expect(page.locator("header .brand")).to_have_text("Kefu 坐席工作台")
    expect(page).to_have_title("收件箱 · Kefu 坐席工作台")
    screenshot(page, "console-inbox-refused-at-limit")

    with live_server.sessions() as db:
        served = db.get(WorkItem, first_id)
        assert served is not None
        routing.finish(db, served, settings=settings)
        db.commit()
    page.reload()
    expect(page.get_by_role("alert")).to_have_count(0)
    queue = page.get_by_role("region", name="待分配队列")
    expect(queue.get_by_role("button", name="领取")).to_have_count(1)
    with live_server.sessions() as db:
        waiting = db.get(WorkItem, second_id)
        assert waiting is not None
        assert (waiting.status, waiting.assigned_staff_id) == ("waiting", None)
    context.close()


def test_the_customers_offered_to_and_served_by_an_agent_on_the_home_and_the_inbox(
    live_server: LiveServer, browser: Browser, live_settings: Settings
) -> None:
    settings = live_settings  # the settings the server runs with
    with live_server.sessions() as db:
        zhang = identity_service.create_staff(
            db, username="zhangmin", password=STAFF_PASSWORD, role="agent", display_name="客服 张敏"
        )
        routing.set_presence(db, zhang, "online", settings=settings)
        supervisor = identity_service.create_staff(
            db, username="lina", password=STAFF_PASSWORD, role="supervisor"
        )
        for kind, call_sid in (("chat", None), ("call", "CA-named")):
            item = routing.enqueue(
                db,
                kind=kind,
                language="zh-CN",
                category="recharge_not_credited",
                call_sid=call_sid,
                settings=settings,
            )
            routing.transfer(
                db, item, by=supervisor, reason="老客户", to_staff=zhang, settings=settings
            )
            assert item.offered_to_id == zhang.id
        db.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    sign_in(live_server, page, "zhangmin")
    # the home counts them under the inbox's own words, the call as well as the chat
    work = page.get_by_role("region", name="我的待办")
    offered = work.locator("li.figure", has_text="等我接入的客户")
    serving = work.locator("li.figure", has_text="我正在接待的客户")
    expect(offered.locator(".figure-count")).to_have_text("2")
    expect(serving.locator(".figure-count")).to_have_text("0")
    screenshot(page, "console-home-agent-offers")
    offered.get_by_role("link").click()
    offers = page.get_by_role("region", name="等我接入的客户")
    expect(offers.locator(".item.offer")).to_have_count(2)
    expect(offers).to_contain_text("在线会话")
    expect(offers).to_contain_text("来电")
    screenshot(page, "console-inbox-offers")
    offers.locator(".item.offer", has_text="来电").get_by_role(
        "button", name="接入", exact=True
    ).click()
    mine = page.get_by_role("region", name="我正在接待的客户")
    expect(mine).to_contain_text("来电")
    page.goto(f"{live_server.url}/console")
    expect(offered.locator(".figure-count")).to_have_text("1")
    expect(serving.locator(".figure-count")).to_have_text("1")
    page.goto(f"{live_server.url}/console/inbox?lang=en")
    expect(page.get_by_role("region", name="Customers offered to me")).to_be_visible()
    expect(page.get_by_role("region", name="Customers I am serving")).to_contain_text("Call")
    screenshot(page, "console-inbox-offers-en")
    page.goto(f"{live_server.url}/console")
    work = page.get_by_role("region", name="My open work")
    expect(work.locator("li.figure", has_text="customers I am serving")).to_contain_text("1")
    screenshot(page, "console-home-agent-offers-en")
    context.close()


def test_an_agent_not_online_takes_nothing_until_they_go_online(
    live_server: LiveServer, browser: Browser, live_settings: Settings
) -> None:
    settings = live_settings  # the settings the server runs with
    with live_server.sessions() as db:
        routing.enqueue(
            db, kind="chat", language="zh-CN", category="recharge_not_credited", settings=settings
        )
        db.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    make_and_sign_in(live_server, page, username="agent5", role="agent", display_name="坐席 小赵")
    page.goto(f"{live_server.url}/console/inbox")
    queue = page.get_by_role("region", name="待分配队列")
    expect(queue).to_contain_text(
        "您现在是「离线」：排队的客户只能由在线的客服领取。把状态改为在线后，这里会出现“领取”按钮。"
    )
    expect(queue.get_by_role("button", name="领取")).to_have_count(0)
    screenshot(page, "console-inbox-pick-offline")
    page.goto(f"{live_server.url}/console/inbox?lang=en")
    queue = page.get_by_role("region", name="Unassigned queue")
    expect(queue).to_contain_text("Your status is Offline: waiting customers can be taken only")
    expect(queue.get_by_role("button", name="Take")).to_have_count(0)
    screenshot(page, "console-inbox-pick-offline-en")

    page.goto(f"{live_server.url}/console/inbox?lang=zh-CN")
    page.get_by_label("状态").select_option("online")
    page.get_by_role("button", name="切换").click()
    queue = page.get_by_role("region", name="待分配队列")
    expect(queue.get_by_role("button", name="领取")).to_have_count(1)
    expect(queue).not_to_contain_text("您现在是")
    screenshot(page, "console-inbox-pick-online")
    queue.get_by_role("button", name="领取").click()
    mine = page.get_by_role("region", name="我正在接待的客户")
    expect(mine).to_contain_text("充值不到账")
    context.close()


def test_a_status_chosen_is_kept_when_the_panel_refreshes_before_it_is_sent(
    live_server: LiveServer, browser: Browser, live_settings: Settings
) -> None:
    """The inbox's panel is fetched again when its socket opens and when the queue moves;
    a status picked but not yet sent must survive that, or 切换 sends the old one (seen in
    CI: an agent who chose 在线 stayed 离线)."""
    with live_server.sessions() as db:
        routing.enqueue(
            db,
            kind="chat",
            language="zh-CN",
            category="recharge_not_credited",
            settings=live_settings,
        )
        db.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    make_and_sign_in(live_server, page, username="agent6", role="agent", display_name="坐席 小周")
    page.add_init_script(
        "window.addEventListener('kefu:console-open', function () { window.consoleOpen = true; });"
    )
    status = page.get_by_label("状态")
    with held(page, "/static/chat/console.js") as release:
        page.goto(f"{live_server.url}/console/inbox", wait_until="commit")
        status.select_option("online")
        release()
        page.wait_for_load_state("load")
    # polled through evaluate: wait_for_function's polling evaluates a string, which the
    # page's Content-Security-Policy (no 'unsafe-eval') refuses once it has to poll
    opened_by = time.monotonic() + 10
    while not page.evaluate("window.consoleOpen === true"):
        assert time.monotonic() < opened_by, "the console's socket never opened"
        page.wait_for_timeout(50)
    page.wait_for_timeout(1000)  # the refresh the socket's opening asks for, 0.3 s later
    expect(status).to_have_value("online")
    page.get_by_role("button", name="切换").click()
    queue = page.get_by_role("region", name="待分配队列")
    expect(queue.get_by_role("button", name="领取")).to_have_count(1)
    context.close()


def test_passing_on_an_offer_sent_on_to_a_colleague_meanwhile_says_so(
    live_server: LiveServer, browser: Browser, live_settings: Settings
) -> None:
    settings = live_settings  # the settings the server runs with
    context, page = _agent_without_scripts(live_server, browser, "agent6", "坐席 小周")
    with live_server.sessions() as db:
        agent = identity_service.get_staff_by_username(db, "agent6")
        supervisor = identity_service.create_staff(
            db, username="lina", password=STAFF_PASSWORD, role="supervisor"
        )
        assert agent is not None
        routing.set_presence(db, agent, "online", settings=settings)
        item = routing.enqueue(
            db, kind="chat", language="zh-CN", category="recharge_not_credited", settings=settings
        )
        routing.transfer(db, item, by=supervisor, reason="熟悉此客户", to_staff=agent)
        assert item.offered_to_id == agent.id
        db.commit()
        item_id = item.id
    page.goto(f"{live_server.url}/console/inbox")
    offers = page.get_by_role("region", name="等我接入的客户")
    decline = offers.get_by_role("button", name="暂不接入")
    expect(decline).to_have_count(1)

    with live_server.sessions() as db:  # the supervisor sends it on to 张敏 meanwhile
        zhang = identity_service.create_staff(
            db, username="zhangmin", password=STAFF_PASSWORD, role="agent", display_name="客服 张敏"
        )
        lina = identity_service.get_staff_by_username(db, "lina")
        offered = db.get(WorkItem, item_id)
        assert lina is not None and offered is not None
        routing.transfer(
            db, offered, by=lina, reason="张敏跟进过", to_staff=zhang, even_if_not_online=True
        )
        db.commit()
    decline.click()
    expect(page.get_by_role("alert")).to_have_text(
        "这位客户已点名转接给客服 张敏，只有客服 张敏可以接入。需要改派时，主管可在会话页重新转接。"
    )
    expect(page).to_have_url(f"{live_server.url}/console/inbox?not_declined={item_id}")
    screenshot(page, "console-inbox-decline-refused")
    page.goto(f"{live_server.url}/console/inbox?lang=en&not_declined={item_id}")
    expect(page.get_by_role("alert")).to_have_text(
        "This customer was transferred to 客服 张敏 by name: only 客服 张敏 can take them. "
        "If they must go to someone else, a supervisor can transfer them again from the chat page."
    )
    screenshot(page, "console-inbox-decline-refused-en")
    context.close()


def test_an_agent_on_a_call_takes_no_second_caller_and_is_told_why(
    live_server: LiveServer, browser: Browser, live_settings: Settings
) -> None:
    settings = live_settings  # the settings the server runs with
    context, page = _agent_without_scripts(live_server, browser, "agent6", "坐席 小周")
    with live_server.sessions() as db:
        agent = identity_service.get_staff_by_username(db, "agent6")
        assert agent is not None
        routing.set_presence(db, agent, "online", settings=settings)
        first, second = (
            routing.enqueue(
                db, kind="call", language="zh-CN", category="other", call_sid=sid, settings=settings
            )
            for sid in ("CA61", "CA62")
        )
        db.commit()
        first_id, second_id = first.id, second.id
    page.goto(f"{live_server.url}/console/inbox")
    take_second = page.locator(f'form[action="/console/work/{second_id}/accept"] button')
    expect(take_second).to_have_text("领取")

    with live_server.sessions() as db:  # the agent answers the first caller meanwhile
        agent = identity_service.get_staff_by_username(db, "agent6")
        answered = db.get(WorkItem, first_id)
        assert agent is not None and answered is not None
        routing.accept(db, answered, agent, settings=settings)
        chat = routing.enqueue(
            db, kind="chat", language="zh-CN", category="other", settings=settings
        )
        db.commit()
        chat_id = chat.id
    take_second.click()
    expect(page.get_by_role("alert")).to_have_text(
        "您正在通话中：每次只能接一通电话。请先结束当前通话，再接入这位来电客户；在线聊天的客户仍可接入。"
    )
    queue = page.get_by_role("region", name="待分配队列")
    expect(queue).to_contain_text("您正在通话中：结束当前通话后，才能领取这通来电。")
    expect(page.locator(f'form[action="/console/work/{second_id}/accept"]')).to_have_count(0)
    expect(page.locator(f'form[action="/console/work/{chat_id}/accept"] button')).to_have_text(
        "领取"
    )
    screenshot(page, "console-inbox-pick-on-call")
    page.goto(f"{live_server.url}/console/inbox?lang=en&not_taken={second_id}")
    expect(page.get_by_role("alert")).to_have_text(
        "You are on a call, and an agent takes one call at a time. Finish your current call, "
        "then take this caller (you can still take customers waiting in chat)."
    )
    expect(page.get_by_role("region", name="Unassigned queue")).to_contain_text(
        "You are on a call: you can take this caller once your current call is over."
    )
    screenshot(page, "console-inbox-pick-on-call-en")
    context.close()
