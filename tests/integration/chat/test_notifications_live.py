"""Staff notifications pushed live: every console socket of the recipient hears of a new
one (a chat offer here) and of reads, nobody else's does, and a rolled-back one is neither
stored nor announced."""

from __future__ import annotations

from sqlalchemy import select
from tests.integration.chat.conftest import (
    ChatServer,
    Socket,
    make_agent,
    message,
    open_console,
    queued_chat,
)

from kefu.notifications import service as notifications
from kefu.notifications.models import StaffNotification


def test_notifications_arrive_live_on_every_console_socket_of_the_recipient(
    chat_server: ChatServer,
) -> None:
    agent = make_agent(chat_server)
    other = make_agent(chat_server, online=False)
    page = Socket(
        chat_server.ws_url + "/ws/console?scope=notifications",
        additional_headers={"Cookie": f"kefu_session={agent.cookie}"},
    )
    page.until(message("hello"))
    inbox = open_console(chat_server, agent)
    elsewhere = Socket(
        chat_server.ws_url + "/ws/console?scope=notifications",
        additional_headers={"Cookie": f"kefu_session={other.cookie}"},
    )
    elsewhere.until(message("hello"))

    queued_chat(chat_server)  # offered to the online agent at once
    offer = page.until(message("notification"))
    assert offer["notification"]["kind"] == "offer" and offer["unread"] == 1
    assert offer["notification"]["link"] == "/console/inbox"
    assert inbox.until(message("notification"))["notification"]["id"] == offer["notification"]["id"]

    with chat_server.sessions() as db:
        notifications.mark_read(db, agent.user.id)
        db.commit()
    assert page.until(message("notifications_read"))["unread"] == 0
    assert [f for f in elsewhere.quiet(0.5) if f.get("type", "").startswith("notification")] == []
    for sock in (page, inbox, elsewhere):
        sock.close()


def test_a_rolled_back_notification_is_never_stored_or_announced(
    chat_server: ChatServer,
) -> None:
    agent = make_agent(chat_server, online=False)
    page = Socket(
        chat_server.ws_url + "/ws/console?scope=notifications",
        additional_headers={"Cookie": f"kefu_session={agent.cookie}"},
    )
    page.until(message("hello"))
    with chat_server.sessions() as db:
        notifications.notify(db, staff_id=agent.user.id, kind="mention", body="草稿")
        db.rollback()
        notifications.notify(db, staff_id=agent.user.id, kind="mention", body="真的")
        db.commit()
        stored = db.scalars(
            select(StaffNotification.body).where(StaffNotification.staff_id == agent.user.id)
        ).all()
    assert stored == ["真的"]
    assert page.until(message("notification"))["notification"]["body"] == "真的"
    page.close()
