"""The widget's and the console's websockets against a real server: hand-over, both ways,
typing, internal notes, resume without loss or duplicates, and who may connect."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from tests.factories import customer_token, make_customer
from tests.integration.chat.conftest import (
    ChatServer,
    Socket,
    accept_chat,
    console_client,
    make_agent,
    message,
    open_console,
    open_widget,
    queued_chat,
    start_chat,
)
from websockets.exceptions import ConnectionClosed, InvalidStatus

from kefu.bot.nlu.classify import classify
from kefu.chat import live, routing
from kefu.chat import service as chat
from kefu.chat.models import ChatMessage, Conversation
from kefu.db import utcnow
from kefu.i18n import translate
from kefu.identity.models import StaffUser
from kefu.quality.models import ContactEvent


@pytest.fixture(scope="module")
def warm_assistant() -> None:
    """The assistant's model is trained once per process; do it before the clock runs."""
    classify("转人工")


def test_assistant_hands_over_and_both_sides_chat(
    chat_server: ChatServer, warm_assistant: None
) -> None:
    agent = make_agent(chat_server)
    console = open_console(chat_server, agent)
    public_id = start_chat(chat_server)
    widget = open_widget(chat_server, public_id)
    greeting = widget.until(message(sender="bot"))
    assert greeting["seq"] == 1 and greeting["data"]["quick_replies"]
    assert widget.until(message("state"))["status"] == "bot"
    widget.send({"type": "message", "text": "转人工", "client_msg_id": "c-1"})
    widget.until(message("ack", client_msg_id="c-1"))
    queued = widget.until(lambda f: f.get("type") == "state" and f.get("status") == "queued")
    assert queued["position"] == 1 and queued["minutes"] >= 1

    offer = console.until(message("work", change="offered"))
    item = offer["item"]
    assert item["context"]["intent"] == "human_agent"
    with console_client(chat_server, agent) as http:
        accepted = http.post(f"/console/work/{item['id']}/accept", follow_redirects=False)
    assert accepted.status_code == 303
    conversation_id = item["conversation_id"]
    assert accepted.headers["location"] == f"/console/chats/{conversation_id}"

    joined = widget.until(message(sender="system"))
    assert agent.user.display_name in joined["text"]
    assert "conversation_id" not in joined  # the widget never sees row ids
    active = lambda f: f.get("type") == "state" and f.get("status") == "active"  # noqa: E731
    state = next((f for f in widget.seen if active(f)), None) or widget.until(active)
    assert state["agent_name"] == agent.user.display_name

    console.send({"type": "watch", "conversation_id": conversation_id, "after_seq": 0})
    history = [console.until(message(sender=s)) for s in ("bot", "customer")]
    assert [m["seq"] for m in history] == [1, 2]

    widget.send({"type": "typing"})
    assert console.until(message("typing"))["from"] == "customer"
    widget.send({"type": "message", "text": "我充值了100元没到账", "client_msg_id": "c-2"})
    got = console.until(message(client_msg_id="c-2"))
    assert got["sender"] == "customer" and got["text"] == "我充值了100元没到账"

    console.send({"type": "typing", "conversation_id": conversation_id})
    assert widget.until(message("typing"))["from"] == "agent"
    say(console, conversation_id, "您好，我来帮您查询。", "a-1")
    reply = widget.until(message(sender="agent"))
    assert reply["text"] == "您好，我来帮您查询。"
    assert reply["data"]["agent_name"] == agent.user.display_name

    say(console, conversation_id, "客户语气着急，优先处理", "a-2", internal=True)
    assert console.until(message(client_msg_id="a-2"))["internal"] is True
    say(console, conversation_id, "查到了", "a-3")
    assert widget.until(message(sender="agent"))["text"] == "查到了"
    assert all(f.get("client_msg_id") != "a-2" for f in widget.seen)  # notes stay inside

    with chat_server.sessions() as db:
        kinds = set(
            db.scalars(
                select(ContactEvent.kind).where(ContactEvent.conversation_id == conversation_id)
            )
        )
    assert {"queued", "answered_by_agent", "first_reply"} <= kinds
    widget.close()
    console.close()


def say(
    console: Socket, conversation_id: int, text: str, client_msg_id: str, internal: bool = False
) -> None:
    console.send(
        {
            "type": "message",
            "conversation_id": conversation_id,
            "text": text,
            "internal": internal,
            "client_msg_id": client_msg_id,
        }
    )


def test_resume_after_a_dropped_connection_loses_and_repeats_nothing(
    chat_server: ChatServer,
) -> None:
    agent = make_agent(chat_server)
    public_id, conversation_id = queued_chat(chat_server)
    widget = open_widget(chat_server, public_id)
    accept_chat(chat_server, conversation_id, agent)
    last = widget.until(message(sender="system"))["seq"]
    widget.close()

    console = open_console(chat_server, agent)
    console.send({"type": "watch", "conversation_id": conversation_id, "after_seq": last})
    for n in range(3):
        say(console, conversation_id, f"第{n}条", f"a-{n}")
        console.until(message("ack", client_msg_id=f"a-{n}"))

    again = open_widget(chat_server, public_id, after_seq=last)
    got = [again.until(message(sender="agent"))["text"] for _ in range(3)]
    assert got == ["第0条", "第1条", "第2条"]
    again.send({"type": "message", "text": "收到", "client_msg_id": "c-9"})
    first = again.until(message("ack", client_msg_id="c-9"))["seq"]
    again.send({"type": "message", "text": "收到", "client_msg_id": "c-9"})  # a resend
    assert again.until(message("ack", client_msg_id="c-9"))["seq"] == first
    echoed = [f["seq"] for f in again.seen + again.quiet(0.5) if f.get("type") == "message"]
    assert echoed.count(first) == 1
    assert echoed == sorted(set(echoed))  # in order, none twice
    with chat_server.sessions() as db:
        stored = db.scalars(
            select(ChatMessage).where(
                ChatMessage.conversation_id == conversation_id,
                ChatMessage.client_msg_id == "c-9",
            )
        ).all()
    assert len(stored) == 1
    again.close()
    console.close()


def test_a_message_the_bus_missed_is_read_back_in_order(chat_server: ChatServer) -> None:
    agent = make_agent(chat_server)
    public_id, conversation_id = queued_chat(chat_server)
    widget = open_widget(chat_server, public_id)
    accept_chat(chat_server, conversation_id, agent)
    widget.until(message(sender="system"))
    with chat_server.sessions() as db:
        conversation = chat.by_public_id(db, public_id)
        staff = db.get(StaffUser, agent.user.id)
        assert staff is not None
        live.agent_says(db, conversation, staff, "丢失的一条")
        db.info.pop("kefu.chat.bus.pending")  # as if the bus dropped it
        db.commit()
        live.agent_says(db, conversation, staff, "下一条")
        db.commit()
    texts = [widget.until(message(sender="agent"))["text"] for _ in range(2)]
    assert texts == ["丢失的一条", "下一条"]
    widget.close()


def test_a_rolled_back_message_is_never_announced(chat_server: ChatServer) -> None:
    agent = make_agent(chat_server)
    public_id, conversation_id = queued_chat(chat_server)
    widget = open_widget(chat_server, public_id)
    accept_chat(chat_server, conversation_id, agent)
    widget.until(message(sender="system"))
    with chat_server.sessions() as db:
        conversation = chat.by_public_id(db, public_id)
        staff = db.get(StaffUser, agent.user.id)
        assert staff is not None
        with db.begin_nested():
            live.agent_says(db, conversation, staff, "保留")
        savepoint = db.begin_nested()
        live.agent_says(db, conversation, staff, "撤回的草稿")
        savepoint.rollback()
        db.commit()
        live.agent_says(db, conversation, staff, "不会提交")
        db.rollback()
    assert widget.until(message(sender="agent"))["text"] == "保留"
    assert [f for f in widget.quiet(0.8) if f.get("type") == "message"] == []
    widget.close()


def test_unknown_conversation_and_bad_frames(chat_server: ChatServer) -> None:
    sock = open_widget(chat_server, "x" * 24)
    assert _closed_with(sock) == 4404  # within the 10 s every socket read here waits
    sock.close()

    public_id, _conversation_id = queued_chat(chat_server)
    widget = open_widget(chat_server, public_id)
    widget.until(message("state"))
    widget.conn.send("not json")
    assert widget.until(message("error"))["code"] == "bad_frame"
    widget.send({"type": "message", "text": "   ", "client_msg_id": "c-x"})
    error = widget.until(message("error", client_msg_id="c-x"))
    assert error["code"] == "invalid_input" and error["message"]
    # a NUL character is refused as at the HTTP edge, on both databases, and nothing stored
    widget.send({"type": "message", "text": "充值\x00没到账", "client_msg_id": "c-nul"})
    refused = widget.until(message("error"))
    assert refused["code"] == "nul_character" and "NUL" in refused["message"]
    widget.send({"type": "message", "text": "充值没到账", "client_msg_id": "c-ok"})
    assert widget.until(message(sender="customer"))["text"] == "充值没到账"
    widget.close()


def _closed_with(sock: Socket) -> int | None:
    with pytest.raises(ConnectionClosed) as closed:
        sock.recv()
    return closed.value.rcvd.code if closed.value.rcvd is not None else None


def test_resuming_a_conversation_takes_its_owner_key(chat_server: ChatServer) -> None:
    """A stranger with the id but no key, a wrong key or another conversation's key is
    closed with 4404, as for an id that never existed, writes nothing and marks nothing;
    an app with its signed-in customer's token reaches that customer's conversation only."""
    public_id, conversation_id = queued_chat(chat_server)
    _other_id, _other_conversation = queued_chat(chat_server)
    owner_key = chat_server.keys[public_id]
    for key in ("", "not-the-key", owner_key[:-1], chat_server.keys[_other_id]):
        sock = Socket(chat_server.ws_url + "/ws/chat")
        sock.send({"type": "hello", "conversation_id": public_id, "key": key, "after_seq": 0})
        # straight after the hello, but the server answers the hello without reading on: on
        # a busy machine its close can come first, and then the message is refused here
        with contextlib.suppress(ConnectionClosed):
            sock.send({"type": "message", "text": "我是别人", "client_msg_id": "s-1"})
        assert _closed_with(sock) == 4404, key
        sock.close()
    no_key = Socket(chat_server.ws_url + "/ws/chat")
    no_key.send({"type": "hello", "conversation_id": public_id, "after_seq": 0})
    assert _closed_with(no_key) == 4404
    no_key.close()
    with chat_server.sessions() as db:
        said = db.scalars(
            select(ChatMessage).where(
                ChatMessage.conversation_id == conversation_id, ChatMessage.sender == "customer"
            )
        ).all()
        assert said == []

    widget = open_widget(chat_server, public_id)  # the owner's key
    assert widget.until(message(sender="bot"))["text"] == "正在为您转接人工客服。"
    widget.send({"type": "message", "text": "我还在", "client_msg_id": "o-1"})
    widget.until(message("ack", client_msg_id="o-1"))
    widget.close()

    # a customer's app token: their own conversation without the key, never another's
    with chat_server.sessions() as db:
        mine, theirs = make_customer(db), make_customer(db)
        conversation = chat.start(db, channel="app", language="zh-CN", customer_id=mine.id)
        app_key = chat.issue_owner_key(conversation)
        chat.append(db, conversation, sender="bot", text="您好")
        tokens = {"mine": customer_token(db, mine), "theirs": customer_token(db, theirs)}
        db.commit()
        app_id = conversation.public_id
    for who, key, code in (("mine", None, None), ("theirs", None, 4404), ("theirs", app_key, 4404)):
        sock = Socket(
            chat_server.ws_url + "/ws/chat",
            additional_headers={"Authorization": f"Bearer {tokens[who]}"},
        )
        sock.send({"type": "hello", "conversation_id": app_id, "key": key, "after_seq": 0})
        if code is None:
            assert sock.until(message(sender="bot"))["text"] == "您好"
        else:
            assert _closed_with(sock) == code, who
        sock.close()


def test_customers_who_send_too_fast_are_slowed_down(chat_server: ChatServer) -> None:
    public_id, _conversation_id = queued_chat(chat_server)
    widget = open_widget(chat_server, public_id)
    for n in range(14):
        widget.send({"type": "message", "text": f"m{n}", "client_msg_id": f"f-{n}"})
    slowed = widget.until(message("error", code="too_many_requests"))
    assert slowed["message"] and slowed["client_msg_id"]
    widget.close()


def test_the_waiting_customer_sees_the_queue_move(chat_server: ChatServer) -> None:
    first_id, first_conv = queued_chat(chat_server)
    second_id, _second_conv = queued_chat(chat_server)
    widget = open_widget(chat_server, second_id)
    assert widget.until(message("state"))["position"] == 2
    with chat_server.sessions() as db:
        item = routing.open_item(db, conversation_id=first_conv)
        assert item is not None
        routing.cancel(db, item, reason="customer_left", settings=chat_server.settings)
        db.commit()
    moved = widget.until(lambda f: f.get("type") == "state" and f.get("position") == 1, 15)
    assert moved["status"] == "queued"
    assert first_id != second_id
    widget.close()


def test_console_socket_needs_a_signed_in_agent_from_our_own_pages(
    chat_server: ChatServer,
) -> None:
    with pytest.raises(InvalidStatus):
        Socket(chat_server.ws_url + "/ws/console")
    agent = make_agent(chat_server)
    with pytest.raises(InvalidStatus):
        Socket(
            chat_server.ws_url + "/ws/console",
            additional_headers={"Cookie": f"kefu_session={agent.cookie}"},
            origin="https://evil.example",
        )


def test_agents_only_watch_their_own_chats(chat_server: ChatServer) -> None:
    make_agent(chat_server)  # the one the chat is offered to
    _public_id, conversation_id = queued_chat(chat_server)
    other = make_agent(chat_server, online=False)
    console = open_console(chat_server, other)
    console.send({"type": "watch", "conversation_id": conversation_id, "after_seq": 0})
    assert console.until(message("error"))["code"] == "not_found"
    console.send({"type": "message", "conversation_id": conversation_id, "text": "hi"})
    assert console.until(message("error"))["code"] == "bad_frame"
    supervisor = make_agent(chat_server, "supervisor", online=False)
    watching = open_console(chat_server, supervisor)
    watching.send({"type": "watch", "conversation_id": conversation_id, "after_seq": 0})
    assert watching.until(message(sender="bot"))["seq"] == 1
    console.close()
    watching.close()


def test_the_console_socket_words_refusals_in_the_pages_language(
    chat_server: ChatServer,
) -> None:
    """The chat page shows a refused send in the words the socket sends: in the page's
    language (``?lang=``, as the page chose it), not the agent's profile language."""
    _public_id, conversation_id = queued_chat(chat_server)
    agent = make_agent(chat_server, online=False)  # profile language zh-CN
    said = {}
    for lang in ("en", "zh-CN"):
        console = Socket(
            chat_server.ws_url + f"/ws/console?lang={lang}",
            additional_headers={"Cookie": f"kefu_session={agent.cookie}"},
        )
        console.send({"type": "watch", "conversation_id": conversation_id, "after_seq": 0})
        said[lang] = console.until(message("error", code="not_found"))["message"]
        console.close()
    assert said == {lang: translate("error.not_found", lang) for lang in ("en", "zh-CN")}


def away(server: ChatServer, conversation_id: int) -> bool:
    with server.sessions() as db:
        item = routing.open_item(db, conversation_id=conversation_id)
        return item is not None and item.customer_away_since is not None


def test_a_customer_gone_from_the_queue_is_counted_as_abandoned(
    chat_server_factory: Callable[..., ChatServer],
) -> None:
    server = chat_server_factory(routing_abandon_seconds=10)
    public_id, conversation_id = queued_chat(server)
    widget = open_widget(server, public_id)
    widget.until(message("state"))
    widget.close()
    deadline = time.monotonic() + 10  # the server handles the close in its own time
    while not away(server, conversation_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert away(server, conversation_id)
    with server.sessions() as db:
        item = routing.open_item(db, conversation_id=conversation_id)
        assert item is not None
        assert live.sweep_abandoned(db, settings=server.settings) == 0  # still in grace
        later = utcnow() + timedelta(seconds=11)
        assert live.sweep_abandoned(db, settings=server.settings, now=later) == 1
        db.commit()
        conversation = db.get(Conversation, conversation_id)
        assert conversation is not None and conversation.status == "closed"
        assert item.cancel_reason == "abandoned"
        kinds = set(
            db.scalars(
                select(ContactEvent.kind).where(ContactEvent.conversation_id == conversation_id)
            )
        )
    assert {"queued", "abandoned", "contact_ended"} <= kinds


def test_a_lapsed_offer_moves_to_the_next_agent_on_its_own(
    chat_server_factory: Callable[..., ChatServer],
) -> None:
    server = chat_server_factory(routing_offer_seconds=5, routing_sweep_seconds=0.5)
    sleepy = make_agent(server)
    awake = make_agent(server)
    sleepy_console = open_console(server, sleepy)
    awake_console = open_console(server, awake)
    _public_id, _conversation_id = queued_chat(server)
    first = sleepy_console.until(message("work", change="offered", scope="mine"), 5)
    assert first["item"]["offered_to_id"] == sleepy.user.id
    moved = awake_console.until(message("work", change="offered", scope="mine"), 15)
    assert moved["item"]["offered_to_id"] == awake.user.id
    sleepy_console.close()
    awake_console.close()


def test_a_customer_sent_to_a_colleague_not_online_is_told_so_without_minutes(
    chat_server: ChatServer,
) -> None:
    agent = make_agent(chat_server)
    named = make_agent(chat_server, online=False)
    public_id, conversation_id = queued_chat(chat_server)
    accept_chat(chat_server, conversation_id, agent)
    widget = open_widget(chat_server, public_id)
    widget.until(message("state", status="active"))
    with chat_server.sessions() as db:
        conversation = db.get(Conversation, conversation_id)
        holder, colleague = db.get(StaffUser, agent.user.id), db.get(StaffUser, named.user.id)
        assert conversation is not None and holder is not None and colleague is not None
        live.transfer(
            db,
            conversation,
            holder,
            reason="熟悉此客户",
            to_staff=colleague,
            even_if_not_online=True,
            settings=chat_server.settings,
        )
        db.commit()
    waiting = widget.until(message("state", status="queued"))
    assert (waiting["waiting_for"], waiting["minutes"]) == (named.user.display_name, 0)

    with chat_server.sessions() as db:
        colleague = db.get(StaffUser, named.user.id)
        assert colleague is not None
        routing.set_presence(db, colleague, "online", settings=chat_server.settings)
        db.commit()
    widget.send({"type": "state"})
    offered = widget.until(message("state", status="queued", waiting_for=None))
    assert (offered["position"], offered["minutes"]) == (1, 1)
    widget.close()
