"""An agent's take of a waiting customer refused: each reason the routing service has is
told in its own words on the inbox, in zh-CN and en, saying what happened and what to do;
never a code, an id or the generic conflict / permission text."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import make_staff
from tests.integration.web.web_helpers import csrf, sign_in

from kefu.chat import live, routing
from kefu.chat.routing_models import WorkItem
from kefu.config import Settings, get_settings
from kefu.identity.models import StaffUser

GENERIC = ("操作与现有记录冲突", "您没有权限进行此操作", "conflicts with", "not allowed")


@pytest.fixture
def settings(database_url: str, request: pytest.FixtureRequest) -> Settings:
    mode = getattr(request, "param", "pick")
    return get_settings().model_copy(update={"routing_mode": mode})


def online(db: Session, settings: Settings) -> StaffUser:
    staff = make_staff(db)
    routing.set_presence(db, staff, "online", settings=settings)
    return staff


def waiting(db: Session, settings: Settings, **queue: str) -> WorkItem:
    return routing.enqueue(
        db,
        kind="chat",
        language=queue.get("language", "zh-CN"),
        tier=queue.get("tier", "tier1"),
        category="recharge_not_credited",
        settings=settings,
    )


def refusal(client: TestClient, item: WorkItem, lang: str) -> str:
    """The words the inbox shows after the agent's take of ``item`` was refused: the take
    redirects to the inbox (a reload there posts nothing), which words it."""
    token = csrf(client.get("/console/inbox").text)
    taken = client.post(
        f"/console/work/{item.id}/accept",
        params={"lang": lang},
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert taken.status_code == 303
    assert taken.headers["location"] == f"/console/inbox?not_taken={item.id}"
    page = client.get(taken.headers["location"]).text
    match = re.search(r'<p class="alert" role="alert">([^<]*)</p>', page)
    assert match, page
    text = match.group(1)
    assert not any(generic in text for generic in GENERIC), text
    assert "chat.error" not in text and str(item.id) not in text
    return text


def test_a_customer_a_colleague_took_first(
    client: TestClient, db: Session, settings: Settings
) -> None:
    item = waiting(db, settings)
    live.accept(db, item, online(db, settings), settings=settings)
    agent = online(db, settings)
    db.commit()
    sign_in(client, agent.username)
    assert refusal(client, item, "zh-CN") == "这位客户已由其他客服接入，您无需再处理。"
    assert refusal(client, item, "en") == (
        "A colleague has already taken this customer, so nothing more is needed from you here."
    )


def test_a_customer_the_agent_took_already(
    client: TestClient, db: Session, settings: Settings
) -> None:
    item = waiting(db, settings)
    agent = online(db, settings)
    live.accept(db, item, agent, settings=settings)
    db.commit()
    sign_in(client, agent.username)
    assert refusal(client, item, "zh-CN") == "您已接入这位客户，请在“我正在接待的客户”中继续。"
    assert refusal(client, item, "en") == (
        "You have already taken this customer. Carry on with them under Customers I am serving."
    )


def test_a_customer_who_left(client: TestClient, db: Session, settings: Settings) -> None:
    item = waiting(db, settings)
    routing.cancel(db, item, reason="customer_left", settings=settings)
    agent = online(db, settings)
    db.commit()
    sign_in(client, agent.username)
    assert refusal(client, item, "zh-CN").startswith("这位客户已不再等待：客户已离开")
    assert refusal(client, item, "en").startswith(
        "This customer is no longer waiting: they left, or their request was closed."
    )


@pytest.mark.parametrize("settings", ["push"], indirect=True)
def test_an_offer_that_went_to_the_next_agent(
    client: TestClient, db: Session, settings: Settings
) -> None:
    first, second = online(db, settings), online(db, settings)
    item = waiting(db, settings)
    assert item.status == "offered"
    passed_over = first if item.offered_to_id == second.id else second
    db.commit()
    sign_in(client, passed_over.username)
    assert refusal(client, item, "zh-CN") == (
        "这位客户已不再分配给您：接入邀请已超时或已转给下一位客服。"
        "新的邀请会出现在“等我接入的客户”中。"
    )
    assert refusal(client, item, "en").startswith(
        "This customer is no longer offered to you: the offer ran out or went to the next agent."
    )


def test_an_agent_at_their_limit_is_told_the_limit(
    client: TestClient, db: Session, settings: Settings
) -> None:
    agent = online(db, settings)
    routing.profile(db, agent).capacity = 2
    for _ in range(2):
        live.accept(db, waiting(db, settings), agent, settings=settings)
    item = waiting(db, settings)
    db.commit()
    sign_in(client, agent.username)
    assert refusal(client, item, "zh-CN") == (
        "您已达到同时接待上限（2 位客户）。请先结束或转接一位正在接待的客户，再接入这位客户。"
    )
    assert refusal(client, item, "en") == (
        "You are at your limit of customers at once (2). "
        "Finish or transfer one of the customers you are serving, then take this one."
    )


def test_a_customer_needing_skills_the_agent_lacks_names_them(
    client: TestClient, db: Session, settings: Settings
) -> None:
    agent = online(db, settings)  # a tier-1 agent speaking Chinese
    item = waiting(db, settings, tier="tier2", language="en")
    db.commit()
    sign_in(client, agent.username)
    assert refusal(client, item, "zh-CN") == (
        "这位客户需要您尚未具备的技能（层级：二线/技术支持；语言：英文）。"
        "请留给具备这些技能的同事，或请主管为您添加这些技能。"
    )
    assert refusal(client, item, "en").startswith(
        "This customer needs skills you do not have (tier: "
    )
    assert "language: English). Leave them to a colleague" in refusal(client, item, "en")


def test_reloading_the_page_of_a_refused_take_takes_nothing(
    client: TestClient, db: Session, settings: Settings
) -> None:
    """The refusal is worded as things stand at each load: once the agent has room, a
    reload shows the customer to take, and has not taken them."""
    agent = online(db, settings)
    routing.profile(db, agent).capacity = 1
    served = waiting(db, settings)
    live.accept(db, served, agent, settings=settings)
    item = waiting(db, settings)
    db.commit()
    sign_in(client, agent.username)
    assert refusal(client, item, "en").startswith("You are at your limit of customers at once (1).")

    routing.finish(db, served, settings=settings)
    db.commit()
    reloaded = client.get(f"/console/inbox?not_taken={item.id}")
    assert reloaded.status_code == 200
    assert 'role="alert"' not in reloaded.text
    assert f'action="/console/work/{item.id}/accept"' in reloaded.text
    db.refresh(item)
    assert (item.status, item.assigned_staff_id) == ("waiting", None)


def declined(client: TestClient, item: WorkItem, lang: str) -> str:
    """The words the inbox shows after the agent's decline of ``item`` was refused."""
    token = csrf(client.get("/console/inbox").text)
    answer = client.post(
        f"/console/work/{item.id}/decline",
        params={"lang": lang},
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/console/inbox?not_declined={item.id}"
    page = client.get(answer.headers["location"]).text
    match = re.search(r'<p class="alert" role="alert">([^<]*)</p>', page)
    assert match, page
    text = match.group(1)
    assert not any(generic in text for generic in GENERIC), text
    return text


@pytest.mark.parametrize("settings", ["push"], indirect=True)
def test_declining_an_offer_gives_the_reasons_a_take_gives(
    client: TestClient, db: Session, settings: Settings
) -> None:
    agent = online(db, settings)
    item = waiting(db, settings)
    assert item.offered_to_id == agent.id
    live.accept(db, item, agent, settings=settings)  # in another tab
    db.commit()
    sign_in(client, agent.username)
    assert declined(client, item, "zh-CN") == "您已接入这位客户，请在“我正在接待的客户”中继续。"
    assert declined(client, item, "en").startswith("You have already taken this customer.")

    routing.finish(db, item, settings=settings)
    db.commit()
    assert declined(client, item, "zh-CN").startswith("这位客户已不再等待")


@pytest.mark.parametrize("settings", ["push"], indirect=True)
def test_declining_an_offer_a_supervisor_sent_to_a_colleague_names_her(
    client: TestClient, db: Session, settings: Settings
) -> None:
    agent = online(db, settings)
    item = waiting(db, settings)
    named = make_staff(db)
    routing.transfer(
        db,
        item,
        by=make_staff(db, "supervisor"),
        reason="老客户",
        to_staff=named,
        even_if_not_online=True,
        settings=settings,
    )
    db.commit()
    sign_in(client, agent.username)
    assert declined(client, item, "zh-CN").startswith(
        f"这位客户已点名转接给{named.display_name}，只有{named.display_name}可以接入。"
    )


@pytest.mark.parametrize("presence", ["away", "offline"])
def test_an_agent_not_online_is_told_to_go_online_to_take(
    client: TestClient, db: Session, settings: Settings, presence: str
) -> None:
    agent = online(db, settings)
    routing.set_presence(db, agent, presence, settings=settings)
    item = waiting(db, settings)
    db.commit()
    sign_in(client, agent.username)
    word = {"away": ("暂离", "Away"), "offline": ("离线", "Offline")}[presence]
    assert refusal(client, item, "zh-CN") == (
        f"您现在是「{word[0]}」：新客户只分配给在线的客服，也只有在线时才能领取。"
        "请先在收件箱上方把状态改为在线，再接入这位客户。"
    )
    assert refusal(client, item, "en").startswith(
        f"Your status is {word[1]}: new customers go only to agents who are online"
    )
    db.refresh(item)
    assert (item.status, item.assigned_staff_id) == ("waiting", None)


def test_an_agent_on_a_call_is_told_to_finish_it_before_the_next_caller(
    client: TestClient, db: Session, settings: Settings
) -> None:
    agent = online(db, settings)
    held = routing.enqueue(
        db, kind="call", language="zh-CN", category="other", call_sid="CA1", settings=settings
    )
    live.accept(db, held, agent, settings=settings)
    item = routing.enqueue(
        db, kind="call", language="zh-CN", category="other", call_sid="CA2", settings=settings
    )
    db.commit()
    sign_in(client, agent.username)
    assert refusal(client, item, "zh-CN") == (
        "您正在通话中：每次只能接一通电话。请先结束当前通话，再接入这位来电客户；"
        "在线聊天的客户仍可接入。"
    )
    assert refusal(client, item, "en") == (
        "You are on a call, and an agent takes one call at a time. Finish your current call, "
        "then take this caller (you can still take customers waiting in chat)."
    )
    queue = client.get("/console/inbox", params={"lang": "zh-CN"}).text
    assert "您正在通话中：结束当前通话后，才能领取这通来电。" in queue
    assert f'action="/console/work/{item.id}/accept"' not in queue
    db.refresh(item)
    assert (item.status, item.assigned_staff_id) == ("waiting", None)
