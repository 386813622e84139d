"""A supervisor takes over a chat an agent holds by transferring it to themselves: the
chat page's transfer list names them beside the colleagues, and only the holder is left
out (a holder cannot transfer a chat to themselves)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import make_staff
from tests.integration.web.web_helpers import csrf, sign_in

from kefu.chat import live, routing
from kefu.chat import service as chat
from kefu.chat.routing_models import WorkItem
from kefu.identity.models import StaffUser


def held_chat(db: Session) -> tuple[WorkItem, StaffUser]:
    holder = make_staff(db)
    routing.set_presence(db, holder, "online")
    conversation = chat.start(db, channel="web", language="zh-CN")
    conversation.status = "queued"
    item = routing.enqueue(
        db,
        kind="chat",
        language="zh-CN",
        category="recharge_not_credited",
        conversation_id=conversation.id,
    )
    live.accept(db, item, holder)
    return item, holder


def choices(page: str) -> list[str]:
    """The colleagues the transfer list offers, by login name."""
    return re.findall(r'<option value="staff:([^"]+)"', page)


def test_a_supervisor_takes_over_a_chat_by_transferring_it_to_themselves(
    client: TestClient, db: Session, database_url: str
) -> None:
    item, holder = held_chat(db)
    supervisor = make_staff(db, "supervisor")
    routing.set_presence(db, supervisor, "online")
    db.commit()

    sign_in(client, supervisor.username)
    page = client.get(f"/console/chats/{item.conversation_id}", params={"lang": "zh-CN"}).text
    assert supervisor.username in choices(page)
    assert holder.username not in choices(page)
    assert f"{supervisor.display_name}（我自己）" in page
    moved = client.post(
        f"/console/chats/{item.conversation_id}/transfer",
        data={"csrf_token": csrf(page), "to": f"staff:{supervisor.username}", "reason": "接管"},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    db.refresh(item)
    assert (item.status, item.offered_to_id) == ("offered", supervisor.id)
    token = csrf(client.get("/console/inbox").text)
    taken = client.post(
        f"/console/work/{item.id}/accept", data={"csrf_token": token}, follow_redirects=False
    )
    assert taken.headers["location"] == f"/console/chats/{item.conversation_id}"
    db.refresh(item)
    assert (item.status, item.assigned_staff_id) == ("assigned", supervisor.id)


def test_the_holder_is_not_offered_themselves(
    client: TestClient, db: Session, database_url: str
) -> None:
    item, holder = held_chat(db)
    supervisor = make_staff(db, "supervisor")
    db.commit()
    sign_in(client, holder.username)
    page = client.get(f"/console/chats/{item.conversation_id}").text
    assert holder.username not in choices(page)
    assert supervisor.username in choices(page)


def test_a_transfer_to_a_colleague_not_online_asks_first_and_the_queues_show_it(
    client: TestClient, db: Session, database_url: str
) -> None:
    item, holder = held_chat(db)
    zhang = make_staff(db)
    routing.set_presence(db, zhang, "away")
    supervisor = make_staff(db, "supervisor")
    db.commit()
    sign_in(client, holder.username)
    page = client.get(f"/console/chats/{item.conversation_id}", params={"lang": "zh-CN"}).text
    assert f"{zhang.display_name}（一线客服 · 暂离）" in page
    url = f"/console/chats/{item.conversation_id}/transfer"
    asked = client.post(
        url, data={"csrf_token": csrf(page), "to": f"staff:{zhang.username}", "reason": "熟客"}
    )
    assert asked.status_code == 409
    assert f"{zhang.display_name}现在是「暂离」：转给{zhang.display_name}后，客户会一直等到" in (
        asked.text
    )
    assert f"仍转给{zhang.display_name}" in asked.text
    db.refresh(item)
    assert (item.status, item.assigned_staff_id) == ("assigned", holder.id)

    anyway = client.post(
        url,
        data={
            "csrf_token": csrf(page),
            "to": f"staff:{zhang.username}",
            "reason": "熟客",
            "even_if_not_online": "true",
        },
        follow_redirects=False,
    )
    assert anyway.status_code == 303
    db.refresh(item)
    assert (item.status, item.target_staff_id) == ("waiting", zhang.id)

    sign_in(client, supervisor.username)
    queues = client.get("/console/queues", params={"lang": "zh-CN"}).text
    assert f"点名转给{zhang.display_name}（暂离），只等其本人接入" in queues
    assert f'href="/console/chats/{item.conversation_id}#transfer-h">重新转接</a>' in queues


def test_an_offline_supervisor_taking_over_is_told_so_and_may_go_online_to_take_it(
    client: TestClient, db: Session, database_url: str
) -> None:
    """Not the warning about a colleague not online (about themselves): they are told they
    are offline, with a button that sets them online and takes the chat over at once."""
    item, holder = held_chat(db)
    supervisor = make_staff(db, "supervisor")  # never online
    db.commit()
    sign_in(client, supervisor.username)
    page = client.get(f"/console/chats/{item.conversation_id}", params={"lang": "zh-CN"}).text
    url = f"/console/chats/{item.conversation_id}/transfer"
    mine = {"csrf_token": csrf(page), "to": f"staff:{supervisor.username}", "reason": "接管"}
    asked = client.post(url, data=mine)
    assert asked.status_code == 409
    assert "您现在是「离线」" in asked.text
    assert "现在是「离线」：转给" not in asked.text  # not the colleague's warning
    assert "仍转给" not in asked.text
    assert 'name="go_online" value="true"' in asked.text
    db.refresh(item)
    assert (item.status, item.assigned_staff_id) == ("assigned", holder.id)

    taken = client.post(url, data={**mine, "go_online": "true"}, follow_redirects=False)
    assert taken.status_code == 303
    db.refresh(item)
    assert (item.status, item.offered_to_id) == ("offered", supervisor.id)
    assert routing.presences(db, [supervisor.id]) == {supervisor.id: "online"}


def test_going_online_is_only_for_taking_a_chat_over(
    client: TestClient, db: Session, database_url: str
) -> None:
    item, holder = held_chat(db)
    supervisor = make_staff(db, "supervisor")
    db.commit()
    sign_in(client, supervisor.username)
    page = client.get(f"/console/chats/{item.conversation_id}").text
    sent = client.post(
        f"/console/chats/{item.conversation_id}/transfer",
        data={"csrf_token": csrf(page), "to": "tier:tier2", "reason": "x", "go_online": "true"},
    )
    assert sent.status_code == 400
    assert routing.presences(db, [supervisor.id]) == {supervisor.id: "offline"}
    db.refresh(item)
    assert (item.status, item.assigned_staff_id) == ("assigned", holder.id)
