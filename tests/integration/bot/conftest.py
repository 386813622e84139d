"""A demo wallet seeded once per module; each test works inside its own savepoint on it.

A customer talks to the assistant through one surface: ``service`` calls it directly (at a
clock the test can move), ``http`` through ``POST /api/v1/bot/messages``, ``websocket``
through the chat widget's socket. The scenario tests run through both client surfaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import count
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.factories import customer_token

from kefu import dbwork, demo
from kefu.app import create_app
from kefu.bot import service
from kefu.bot.dialog import QuickReply
from kefu.channels.models import OutboxMessage
from kefu.channels.senders import build_senders
from kefu.chat import service as chat_service
from kefu.chat.models import ChatMessage, Conversation
from kefu.config import Settings, get_settings
from kefu.db import get_db, sessions_of, utcnow
from kefu.identity.models import Customer
from kefu.wallet.port import build_wallet

SURFACES = ("http", "websocket")
_ids = count(1)


@pytest.fixture(scope="module")
def demo_connection(engine: Engine) -> Iterator[object]:
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    demo.seed(session, history=False)
    session.close()
    try:
        yield connection
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture
def demo_db(demo_connection: object) -> Iterator[Session]:
    """The seeded demo data; whatever a test does is rolled back after it."""
    from sqlalchemy import Connection

    assert isinstance(demo_connection, Connection)
    nested = demo_connection.begin_nested()
    session = Session(bind=demo_connection, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        if nested.is_active:
            nested.rollback()


def phone_of(index: int) -> str:
    """The registered phone of demo customer ``index`` (see kefu.wallet.demo.PROBLEMS)."""
    return f"138{index:08d}"


def last_code(db: Session, phone: str) -> str:
    body = db.scalars(
        select(OutboxMessage.body)
        .where(OutboxMessage.destination == "+86" + phone)
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert body is not None, "no code was sent"
    found = re.search(r"\b\d{6}\b", body)
    assert found is not None
    return found.group()


class Refused(Exception):
    """The surface refused the message (HTTP 4xx, an error frame on the socket)."""


@dataclass
class Turn:
    """What a client sees of one turn of the assistant."""

    reply: str
    intent: str
    confidence: float
    handoff: bool
    quick_replies: list[QuickReply]
    input: str
    case_reference: str | None
    messages: list[dict[str, Any]] = field(default_factory=list)


def _turn_of(answers: list[dict[str, Any]]) -> Turn:
    """A turn as the widget reads it: the assistant's messages answering one of the
    customer's, each carrying what the service stored with it."""
    assert answers, "the assistant did not answer"
    last = answers[-1]["data"]
    return Turn(
        reply="\n\n".join(a["text"] for a in answers),
        intent=last["intent"],
        confidence=float(last["confidence"]),
        handoff=any(a["data"]["handoff"] for a in answers),
        quick_replies=[QuickReply(**q) for q in last["quick_replies"]],
        input=last["input"],
        case_reference=next(
            (a["data"]["case_reference"] for a in answers if a["data"].get("case_reference")),
            None,
        ),
        messages=answers,
    )


@dataclass
class Chat:
    """A customer talking to the assistant through ``surface``. The ``service`` surface
    runs at a fixed clock that tests can move on; the others at the real one."""

    db: Session
    settings: Settings
    lang: str | None = "zh-CN"
    customer_id: int | None = None
    now: datetime = field(default_factory=lambda: utcnow() + timedelta(hours=1))
    conversation: Conversation | None = None
    turns: list[Turn] = field(default_factory=list)
    surface: str = "service"
    client: TestClient | None = None
    seen: dict[int, dict[str, Any]] = field(default_factory=dict)  # the socket's messages
    stack: ExitStack | None = None
    key: str | None = None  # the conversation's owner key, as the client keeps it

    def serve(self, settings: Settings) -> None:
        """Answer from now on with ``settings`` (through a client surface: a new app)."""
        self.settings = settings
        if self.stack is not None:
            self.client = self.stack.enter_context(serving(self.db, settings))

    def clock(self) -> datetime:
        """The time the assistant answers at."""
        return self.now if self.surface == "service" else utcnow()

    def other(self) -> Chat:
        """Another conversation through the same surface."""
        return Chat(
            db=self.db,
            settings=self.settings,
            lang=self.lang,
            now=self.now,
            surface=self.surface,
            client=self.client,
            stack=self.stack,
        )

    def _headers(self) -> dict[str, str]:
        if self.customer_id is None:
            return {}
        customer = self.db.get(Customer, self.customer_id)
        assert customer is not None
        return {"Authorization": f"Bearer {customer_token(self.db, customer)}"}

    def _lang(self) -> dict[str, str]:
        return {"lang": self.lang} if self.lang else {}

    def start(self) -> str:
        if self.surface == "service":
            self.conversation, messages = service.start_conversation(
                self.db,
                settings=self.settings,
                senders=build_senders(self.settings),
                wallet=build_wallet(self.settings)(self.db),
                language=self.lang,
                customer_id=self.customer_id,
                now=self.now,
            )
            return messages[0].text
        assert self.client is not None
        path = (
            "/api/v1/bot/conversations" if self.surface == "http" else "/api/v1/chat/conversations"
        )
        response = self.client.post(path, json=self._lang(), headers=self._headers())
        assert response.status_code == 201, response.text
        self.conversation = chat_service.by_public_id(self.db, response.json()["conversation_id"])
        self.key = response.json()["conversation_key"]
        first = self.db.scalars(
            select(ChatMessage)
            .where(ChatMessage.conversation_id == self.conversation.id)
            .order_by(ChatMessage.seq)
        ).first()
        assert first is not None
        return first.text

    def say(self, text: str, *, client_msg_id: str | None = None) -> Turn:
        if self.conversation is None and self.surface == "websocket":
            self.start()
        if self.surface == "http":
            turn = self._say_http(text, client_msg_id)
        elif self.surface == "websocket":
            turn = self._say_socket(text, client_msg_id or f"msg-{next(_ids)}")
        else:
            turn = self._say_service(text, client_msg_id)
        self.turns.append(turn)
        return turn

    def _say_service(self, text: str, client_msg_id: str | None) -> Turn:
        if self.conversation is None:
            self.conversation = chat_service.start(
                self.db,
                channel="web",
                language=self.lang or self.settings.default_language,
                customer_id=self.customer_id,
                now=self.now,
            )
        self.now += timedelta(seconds=5)
        turn = service.respond(
            self.db,
            self.conversation,
            text,
            settings=self.settings,
            senders=build_senders(self.settings),
            wallet=build_wallet(self.settings)(self.db),
            client_msg_id=client_msg_id,
            now=self.now,
        )
        self.db.commit()
        return Turn(
            reply=turn.reply,
            intent=turn.intent,
            confidence=turn.confidence,
            handoff=turn.handoff,
            quick_replies=turn.quick_replies,
            input=turn.input,
            case_reference=turn.case_reference,
        )

    def _say_http(self, text: str, client_msg_id: str | None) -> Turn:
        assert self.client is not None
        payload: dict[str, Any] = {"text": text, **self._lang()}
        if self.conversation is not None:
            payload["conversation_id"] = self.conversation.public_id
        if client_msg_id is not None:
            payload["client_msg_id"] = client_msg_id
        headers = self._headers()
        if self.key is not None:
            headers["X-Kefu-Conversation-Key"] = self.key
        response = self.client.post("/api/v1/bot/messages", json=payload, headers=headers)
        if 400 <= response.status_code < 500:
            raise Refused(response.json()["error"]["message"])
        assert response.status_code == 200, response.text
        body = response.json()
        if self.conversation is None:
            self.conversation = chat_service.by_public_id(self.db, body["conversation_id"])
            self.key = body["conversation_key"]
        self.db.refresh(self.conversation)
        return Turn(
            reply=body["reply"],
            intent=body["intent"],
            confidence=body["confidence"],
            handoff=body["handoff"],
            quick_replies=[QuickReply(**q) for q in body["quick_replies"]],
            input=body["input"],
            case_reference=body["case_reference"],
        )

    def _say_socket(self, text: str, client_msg_id: str) -> Turn:
        """One message over a fresh connection, as the widget after a reconnect: hello with
        the last message it has, the message, then its ``ack`` and the answers."""
        assert self.client is not None and self.conversation is not None
        refused: str | None = None
        with self.client.websocket_connect("/ws/chat") as socket:
            socket.send_json(
                {
                    "type": "hello",
                    "conversation_id": self.conversation.public_id,
                    "key": self.key,
                    "after_seq": max(self.seen, default=0),
                }
            )
            socket.send_json({"type": "message", "text": text, "client_msg_id": client_msg_id})
            acked: int | None = None
            while acked is None and refused is None:
                frame = socket.receive_json()
                if frame["type"] == "message":
                    self.seen[frame["seq"]] = frame
                elif frame["type"] == "ack" and frame["client_msg_id"] == client_msg_id:
                    acked = frame["seq"]
                elif frame["type"] == "error" and frame.get("client_msg_id") == client_msg_id:
                    refused = frame["message"]
            # a round trip after the ack: live messages already on their way arrive first
            socket.send_json({"type": "ping"})
            while (frame := socket.receive_json())["type"] != "pong":
                if frame["type"] == "message":
                    self.seen[frame["seq"]] = frame
        self._settled()
        if refused is not None:
            raise Refused(refused)
        assert acked is not None
        self.db.refresh(self.conversation)
        replying = [
            message.seq
            for message in self.db.scalars(
                select(ChatMessage).where(
                    ChatMessage.conversation_id == self.conversation.id,
                    ChatMessage.sender == "bot",
                    ChatMessage.seq > acked,
                )
            )
            if message.data.get("in_reply_to") == acked
        ]
        missing = [seq for seq in replying if seq not in self.seen]
        assert not missing, f"answers stored but never sent to the widget: {missing}"
        answers = [self.seen[seq] for seq in sorted(replying)]
        if not answers and self.conversation.status != "bot":
            # a person has the conversation: the widget shows where the wait stands instead
            return Turn("", self.conversation.intent or "", 1.0, True, [], "text", None)
        return _turn_of(answers)

    def _settled(self) -> None:
        """Wait for the socket's last database work: the test client cancels the server's
        side at once when it disconnects, while work already handed to the SQLite writer
        thread (the customer leaving a queue) still runs on the shared test session."""
        assert self.client is not None and isinstance(self.client.app, FastAPI)
        group = dbwork.for_app(self.client.app).group
        if group is not None:  # one thread runs the jobs in order: a no-op comes last
            group.submit(lambda _db: None).result(timeout=30)

    def verify(self, index: int) -> Turn:
        """Answer the identity check as demo customer ``index`` would."""
        turn = self.turns[-1]
        if turn.input != "code":
            turn = self.say(phone_of(index))
            assert turn.input == "code", turn.reply
        return self.say(last_code(self.db, phone_of(index)))


@contextmanager
def serving(db: Session, settings: Settings) -> Iterator[TestClient]:
    """The app, serving ``db`` to its routes and to the chat sockets. The routing sweep
    (lapsed offers, abandoned waits: not what these tests are about) would run on the same
    shared session from its own task at any moment, so it waits as long as it may."""
    settings = settings.model_copy(update={"routing_sweep_seconds": 60})
    app = create_app(settings)

    def _db() -> Iterator[Session]:
        yield db

    app.dependency_overrides[get_db] = _db
    app.dependency_overrides[get_settings] = lambda: settings
    # one session shared by every request and socket: its work runs one piece at a time in
    # one thread on either database (the SQLite way), as a session allows
    app.state.db_work = dbwork.DbWork(lambda: sessions_of(app), sqlite=True)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(params=SURFACES)
def chat(request: pytest.FixtureRequest, demo_db: Session, settings: Settings) -> Iterator[Chat]:
    with ExitStack() as stack:
        client = stack.enter_context(serving(demo_db, settings))
        yield Chat(db=demo_db, settings=settings, surface=request.param, client=client, stack=stack)


@pytest.fixture
def service_chat(demo_db: Session, settings: Settings) -> Chat:
    """The assistant called directly, at a clock the test moves."""
    return Chat(db=demo_db, settings=settings)
