"""Pick mode: a chat transferred to a colleague by name is theirs alone, as push routing
offers it only to them, once they are online. Another skilled agent, and a supervisor
too, is refused in words on the console; a supervisor who must move it transfers it
again, with a reason."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import STAFF_PASSWORD, make_staff
from tests.integration.web.web_helpers import csrf, sign_in

from kefu.chat import live, routing
from kefu.chat import service as chat
from kefu.chat.routing_models import WorkItem
from kefu.config import Settings, get_settings
from kefu.identity import service as identity_service
from kefu.identity.models import StaffUser

REFUSED_ZH = "这位客户已点名转接给客服 张敏，只有客服 张敏可以接入"
REFUSED_EN = "This customer was transferred to 客服 张敏 by name: only 客服 张敏 can take them."


@pytest.fixture
def settings(database_url: str) -> Settings:
    return get_settings().model_copy(update={"routing_mode": "pick"})


def skilled(db: Session, settings: Settings, role: str = "agent") -> StaffUser:
    staff = make_staff(db, role)
    routing.set_presence(db, staff, "online", settings=settings)
    return staff


def sent_to_zhang_min(db: Session, settings: Settings) -> tuple[WorkItem, StaffUser]:
    """A chat its holder transferred by name to 客服 张敏, who is away: it waits for her."""
    zhang = identity_service.create_staff(
        db, username="zhangmin", password=STAFF_PASSWORD, role="agent", display_name="客服 张敏"
    )
    routing.set_presence(db, zhang, "away", settings=settings)
    holder = skilled(db, settings)
    conversation = chat.start(db, channel="web", language="zh-CN")
    conversation.status = "queued"
    item = routing.enqueue(
        db,
        kind="chat",
        language="zh-CN",
        category="recharge_not_credited",
        conversation_id=conversation.id,
        settings=settings,
    )
    live.accept(db, item, holder, settings=settings)
    live.transfer(
        db,
        conversation,
        holder,
        reason="老客户，张敏跟进过",
        to_staff=zhang,
        even_if_not_online=True,
        settings=settings,
    )
    db.commit()
    assert (item.status, item.target_staff_id) == ("waiting", zhang.id)
    return item, zhang


def take(client: TestClient, item: WorkItem, lang: str = "zh-CN") -> tuple[str, str]:
    """Where the take sent the agent (it always redirects), and the page there."""
    token = csrf(client.get("/console/inbox").text)
    response = client.post(
        f"/console/work/{item.id}/accept",
        params={"lang": lang},
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    return location, client.get(location).text


def alert(page: str) -> str:
    match = re.search(r'<p class="alert" role="alert">([^<]*)</p>', page)
    assert match, page
    return match.group(1)


def test_only_the_named_agent_takes_a_chat_sent_to_her(
    client: TestClient, db: Session, settings: Settings
) -> None:
    item, zhang = sent_to_zhang_min(db, settings)
    other = skilled(db, settings)
    db.commit()
    sign_in(client, other.username)

    inbox = client.get("/console/inbox").text
    assert f'action="/console/work/{item.id}/accept"' not in inbox
    # her status beside her name, as on the supervisor's live queues
    assert "已点名转接给客服 张敏（暂离），由其本人接入" in inbox

    location, page = take(client, item)
    assert location == f"/console/inbox?not_taken={item.id}"
    assert alert(page).startswith(REFUSED_ZH)
    assert "transferred_to_colleague" not in page and "chat.error" not in page
    location, page = take(client, item, lang="en")
    assert location == f"/console/inbox?not_taken={item.id}"
    assert alert(page).startswith(REFUSED_EN)
    db.refresh(item)
    assert (item.status, item.target_staff_id, item.assigned_staff_id) == (
        "waiting",
        zhang.id,
        None,
    )

    # she is away: like push routing, taking waits until she is online
    sign_in(client, zhang.username)
    inbox = client.get("/console/inbox", params={"lang": "zh-CN"}).text
    assert f'action="/console/work/{item.id}/accept"' not in inbox
    assert "您现在是「暂离」：排队的客户只能由在线的客服领取。" in inbox
    location, page = take(client, item)
    assert location == f"/console/inbox?not_taken={item.id}"
    assert alert(page).startswith("您现在是「暂离」：新客户只分配给在线的客服")
    token = csrf(client.get("/console/inbox").text)
    client.post("/console/presence", data={"csrf_token": token, "presence": "online"})
    db.refresh(item)
    assert (item.status, item.offered_to_id) == ("offered", zhang.id)
    assert f'action="/console/work/{item.id}/accept"' in client.get("/console/inbox").text
    token = csrf(client.get("/console/inbox").text)
    taken = client.post(
        f"/console/work/{item.id}/accept", data={"csrf_token": token}, follow_redirects=False
    )
    assert taken.status_code == 303
    assert taken.headers["location"] == f"/console/chats/{item.conversation_id}"
    db.refresh(item)
    assert (item.status, item.assigned_staff_id) == ("assigned", zhang.id)


def test_a_supervisor_moves_it_by_transferring_it_again_not_by_taking_it(
    client: TestClient, db: Session, settings: Settings
) -> None:
    item, zhang = sent_to_zhang_min(db, settings)
    supervisor = skilled(db, settings, "supervisor")
    other = skilled(db, settings)
    db.commit()
    sign_in(client, supervisor.username)
    location, page = take(client, item)
    assert location == f"/console/inbox?not_taken={item.id}"
    assert alert(page).startswith(REFUSED_ZH)

    token = csrf(client.get(f"/console/chats/{item.conversation_id}").text)
    moved = client.post(
        f"/console/chats/{item.conversation_id}/transfer",
        data={"csrf_token": token, "to": "tier:tier1", "reason": "张敏今天请假"},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    db.refresh(item)
    assert (item.status, item.target_staff_id) == ("waiting", None)

    sign_in(client, other.username)
    location, _ = take(client, item)
    assert location == f"/console/chats/{item.conversation_id}"
    db.refresh(item)
    assert (item.status, item.assigned_staff_id) == ("assigned", other.id)
    assert zhang.id not in (item.assigned_staff_id, item.offered_to_id)
