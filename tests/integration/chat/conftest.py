"""Live chat over real sockets: a uvicorn server on loopback with its own database, and
small clients for the widget's and the console's websockets."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from tests.factories import make_staff
from tests.served_app import app_on
from websockets.sync.client import ClientConnection, connect

from kefu.chat import live, routing
from kefu.chat import service as chat
from kefu.config import Settings
from kefu.http_protocol import JoinedWritesProtocol
from kefu.identity import service as identity_service
from kefu.identity.models import StaffUser
from kefu.websocket_protocol import LeanWebSocketProtocol


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ChatServer:
    url: str
    ws_url: str
    sessions: sessionmaker[Session]
    settings: Settings
    # the owner keys of the conversations the tests started, by public id: what each
    # customer's widget holds (``open_widget`` presents it)
    keys: dict[str, str] = field(default_factory=dict)

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)


@pytest.fixture
def chat_server_factory(
    isolated_database: Engine, tmp_path: Path, settings: Settings
) -> Iterator[Callable[..., ChatServer]]:
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []
    sessions = sessionmaker(bind=isolated_database, expire_on_commit=False)

    def start(**overrides: Any) -> ChatServer:
        served = settings.model_copy(update={"storage_dir": str(tmp_path / "files"), **overrides})
        app = app_on(isolated_database, served)
        port = free_port()
        # the HTTP and websocket protocols ``kefu serve`` runs (a socket is upgraded from
        # the first)
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            ws=LeanWebSocketProtocol,
            http=JoinedWritesProtocol,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            if time.monotonic() > deadline:
                pytest.fail("chat test server did not start")
            time.sleep(0.02)
        servers.append((server, thread))
        return ChatServer(
            url=f"http://127.0.0.1:{port}",
            ws_url=f"ws://127.0.0.1:{port}",
            sessions=sessions,
            settings=served,
        )

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def chat_server(chat_server_factory: Callable[..., ChatServer]) -> ChatServer:
    return chat_server_factory()


class Socket:
    """A websocket client that reads JSON frames with a deadline."""

    def __init__(self, url: str, **options: Any) -> None:
        self._stack = ExitStack()
        self.conn: ClientConnection = self._stack.enter_context(
            connect(url, open_timeout=10, **options)
        )
        self.seen: list[dict[str, Any]] = []

    def __repr__(self) -> str:
        return f"<Socket seen={self.seen[-8:]}>"

    def send(self, frame: dict[str, Any]) -> None:
        self.conn.send(json.dumps(frame, ensure_ascii=False))

    def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(self.conn.recv(timeout=timeout))
        self.seen.append(frame)
        return frame

    def until(
        self, match: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        """Frames are read (and kept in ``seen``) until one matches."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching frame; seen {self.seen[-10:]}")
            try:
                frame = self.recv(left)
            except TimeoutError:
                raise AssertionError(f"no matching frame; seen {self.seen[-10:]}") from None
            if match(frame):
                return frame

    def quiet(self, seconds: float = 0.5) -> list[dict[str, Any]]:
        """Whatever arrives within ``seconds``."""
        got = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                got.append(self.recv(left))
            except TimeoutError:
                break
        return got

    def close(self) -> None:
        self._stack.close()


def message(kind: str = "message", **fields: Any) -> Callable[[dict[str, Any]], bool]:
    def match(frame: dict[str, Any]) -> bool:
        return frame.get("type") == kind and all(frame.get(k) == v for k, v in fields.items())

    return match


def open_widget(
    server: ChatServer, conversation_id: str, after_seq: int = 0, *, key: str | None = None
) -> Socket:
    """The customer's widget on the conversation, with its owner key (``key``, or the one
    the conversation was started with)."""
    sock = Socket(server.ws_url + "/ws/chat")
    hello = {
        "type": "hello",
        "conversation_id": conversation_id,
        "key": key if key is not None else server.keys.get(conversation_id),
        "after_seq": after_seq,
    }
    sock.send(hello)
    return sock


@dataclass
class Agent:
    user: StaffUser
    cookie: str
    csrf: str


def make_agent(
    server: ChatServer, role: str = "agent", *, online: bool = True, capacity: int = 3
) -> Agent:
    with server.sessions() as db:
        user = make_staff(db, role)
        routing.set_skills(
            db,
            user,
            languages=["zh-CN", "en"],
            categories=[],
            tiers=routing.DEFAULT_TIERS[role],
            capacity=capacity,
        )
        if online:
            routing.set_presence(db, user, "online", settings=server.settings)
        issued = identity_service.issue_token(
            db, kind="session", ttl_seconds=3600, staff_user_id=user.id
        )
        db.commit()
        assert issued.csrf_token is not None
        return Agent(user=user, cookie=issued.token, csrf=issued.csrf_token)


def open_console(server: ChatServer, agent: Agent) -> Socket:
    sock = Socket(
        server.ws_url + "/ws/console",
        additional_headers={"Cookie": f"kefu_session={agent.cookie}"},
    )
    sock.until(message("hello"))
    return sock


def console_client(server: ChatServer, agent: Agent) -> httpx.Client:
    client = httpx.Client(
        base_url=server.url,
        timeout=10,
        headers={"X-CSRF-Token": agent.csrf},
        cookies={"kefu_session": agent.cookie},
    )
    return client


def queued_chat(server: ChatServer, *, urgent: bool = False) -> tuple[str, int]:
    """A conversation handed to people the way the assistant does it (status ``queued``
    and a work item), without running the assistant; returns its public and row ids."""
    with server.sessions() as db:
        conversation = chat.start(db, channel="web", language="zh-CN")
        server.keys[conversation.public_id] = chat.issue_owner_key(conversation)
        chat.append(db, conversation, sender="bot", text="正在为您转接人工客服。")
        conversation.status = "queued"
        routing.enqueue(
            db,
            kind="chat",
            language="zh-CN",
            category="recharge_not_credited",
            urgent=urgent,
            conversation_id=conversation.id,
            context={"intent": "recharge_not_credited", "reason": "human_agent"},
            settings=server.settings,
        )
        db.commit()
        return conversation.public_id, conversation.id


def accept_chat(server: ChatServer, conversation_id: int, agent: Agent) -> None:
    with server.sessions() as db:
        item = routing.open_item(db, conversation_id=conversation_id)
        assert item is not None
        staff = db.get(StaffUser, agent.user.id)
        assert staff is not None
        live.accept(db, item, staff, settings=server.settings)
        db.commit()


def start_chat(server: ChatServer, **body: Any) -> str:
    with server.http() as client:
        response = client.post("/api/v1/chat/conversations", json={"lang": "zh-CN", **body})
    assert response.status_code == 201, response.text
    conversation_id: str = response.json()["conversation_id"]
    server.keys[conversation_id] = response.json()["conversation_key"]
    return conversation_id
