"""Websockets of live chat: ``/ws/chat`` for the customer's widget, ``/ws/console`` for
the agent console.

The database holds the conversation; a socket is only a view of it. Each message has its
per-conversation ``seq``: a client says the last one it has (``after_seq``) when it
connects, gets everything after that from the database, then live messages from the bus.
A socket keeps the highest ``seq`` it has passed on, drops anything at or below it (no
duplicates) and, when the bus skips a number, reads the gap back from the database (no
losses). A client's own messages carry a ``client_msg_id`` so a resend after a dropped
connection is stored once.

Database work runs in worker threads, never on the event loop (see
``kefu.identity.deps``), with a session per operation: a socket can stay open for an hour
and must not hold a connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar
from urllib.parse import urlsplit

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocketDisconnected

from kefu import dbwork
from kefu.channels.deps import get_senders
from kefu.chat import bus, live, routing
from kefu.chat import service as chat
from kefu.chat.models import Conversation
from kefu.config import Settings
from kefu.edge import has_nul_text
from kefu.errors import KefuError, NotFound
from kefu.i18n import Lang, normalise_lang, translate
from kefu.identity import service as identity_service
from kefu.identity.deps import SESSION_COOKIE
from kefu.identity.models import StaffUser
from kefu.identity.permissions import has_permission
from kefu.numbers import INT32_MAX
from kefu.placeholders import UnfilledPlaceholder
from kefu.wallet.deps import get_wallet

log = logging.getLogger("kefu.chat.ws")

T = TypeVar("T")
MAX_FRAME = 32 * 1024
HELLO_TIMEOUT = 15.0
# a socket may send this many messages in a burst, refilled at RATE_REFILL per second
RATE_BURST = 10
RATE_REFILL = 1.0
TYPING_EVERY = 2.0  # seconds between forwarded typing signals
POSITION_EVERY = 10.0  # seconds between queue position updates while waiting
# close codes (4000-4999 are the application's own)
CLOSE_NOT_FOUND = 4404
CLOSE_NOT_AUTHENTICATED = 4401
CLOSE_BAD_REQUEST = 4400


def _settings(websocket: WebSocket) -> Settings:
    settings: Settings = websocket.app.state.settings
    return settings


async def in_thread(websocket: WebSocket, work: Callable[[Session], T]) -> T:
    """Run ``work(db)`` without blocking the event loop and commit (``kefu.dbwork``)."""
    return await dbwork.for_app(websocket.app).run(work)


class _Bucket:
    def __init__(self) -> None:
        self.tokens = float(RATE_BURST)
        self.at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(RATE_BURST, self.tokens + (now - self.at) * RATE_REFILL)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class _Peer:
    """Shared plumbing of both sockets: one writer at a time, JSON frames, errors."""

    def __init__(self, websocket: WebSocket, lang: Lang) -> None:
        self.ws = websocket
        self.lang = lang
        self.send_lock = asyncio.Lock()
        self.bucket = _Bucket()
        self.last_typing = 0.0

    async def send(self, payload: dict[str, Any]) -> None:
        async with self.send_lock:
            await self.ws.send_text(json.dumps(payload, ensure_ascii=False))

    async def error(self, exc: KefuError, **extra: Any) -> None:
        await self.send(
            {
                "type": "error",
                "code": exc.code,
                "message": translate(exc.message_key, self.lang, **exc.params),
                # the part to fill in, for the page to select it in the composer
                **({"part": exc.params["part"]} if isinstance(exc, UnfilledPlaceholder) else {}),
                **extra,
            }
        )

    async def attempt(self, work: Callable[[Session], T], **extra: Any) -> T | None:
        """Run a client's request; its error goes back to that client as a frame and the
        socket stays open (a crash would only make the client resend the same thing)."""
        try:
            return await in_thread(self.ws, work)
        except KefuError as exc:
            await self.error(exc, **extra)
        except Exception:
            log.exception("chat request failed")
            await self.send(
                {
                    "type": "error",
                    "code": "internal_error",
                    "message": translate("error.internal", self.lang),
                    **extra,
                }
            )
        return None

    async def receive(self) -> dict[str, Any] | None:
        """The next frame as a JSON object; None for garbage (answered with an error)."""
        raw = await self.ws.receive_text()
        if len(raw) > MAX_FRAME:
            await self.ws.close(code=1009)
            raise WebSocketDisconnect(code=1009)
        try:
            frame = json.loads(raw)
        except ValueError:
            frame = None
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self.send({"type": "error", "code": "bad_frame", "message": "bad frame"})
            return None
        if has_nul_text("application/json", raw.encode()):
            # as at the HTTP edge (kefu.edge): the same refusal on both databases
            message = translate("error.nul_character", self.lang)
            await self.send({"type": "error", "code": "nul_character", "message": message})
            return None
        return frame

    def typing_allowed(self) -> bool:
        now = time.monotonic()
        if now - self.last_typing < TYPING_EVERY:
            return False
        self.last_typing = now
        return True


def _int(value: Any, default: int = 0) -> int:
    number = isinstance(value, int) and not isinstance(value, bool)
    return value if number and 0 <= value <= INT32_MAX else default


def _client_msg_id(frame: dict[str, Any]) -> str | None:
    value = frame.get("client_msg_id")
    if isinstance(value, str) and 0 < len(value) <= 64:
        return value
    return None


class _Stream:
    """One conversation seen through one socket: the highest ``seq`` passed on. The lock
    keeps a catch-up from the database and live messages from interleaving."""

    def __init__(self, conversation_id: int, last_seq: int, *, internal: bool) -> None:
        self.conversation_id = conversation_id
        self.last_seq = last_seq
        self.internal = internal
        self.lock = asyncio.Lock()
        self.closed = False  # refused (not theirs to see): nothing more is passed on

    def backlog(self, db: Session) -> list[dict[str, Any]]:
        conversation = db.get(Conversation, self.conversation_id)
        if conversation is None:
            return []
        payloads: list[dict[str, Any]] = []
        after = self.last_seq
        while True:
            found = chat.messages(
                db, conversation, after_seq=after, include_internal=self.internal, limit=500
            )
            payloads.extend(chat.message_payload(m) for m in found)
            if len(found) < 500:
                return payloads
            after = found[-1].seq

    def fresh(self, payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The payloads not passed on yet, in order; moves ``last_seq`` past them."""
        out = []
        for payload in payloads:
            seq = _int(payload.get("seq"))
            if seq <= self.last_seq:
                continue
            self.last_seq = seq
            if payload.get("internal") and not self.internal:
                continue
            out.append(payload)
        return out


def _for_customer(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in ("conversation_id", "internal")}


def _same(payload: dict[str, Any]) -> dict[str, Any]:
    return payload


# --- sweeping: lapsed offers and abandoned waits --------------------------------------


_sweepers: dict[int, asyncio.Task[None]] = {}


async def _sweep_forever(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    while True:
        await asyncio.sleep(settings.routing_sweep_seconds)
        try:
            await dbwork.for_app(app).run(lambda db: live.sweep(db, settings=settings))
        except Exception:
            log.exception("routing sweep failed")


def ensure_sweeper(app: FastAPI) -> None:
    """Offers lapse in seconds, which the minute-by-minute job cannot catch in time, so
    each serving process sweeps every ``KEFU_ROUTING_SWEEP_SECONDS`` while it has live
    chat sockets. Started by the first socket on this event loop."""
    loop = asyncio.get_running_loop()
    task = _sweepers.get(id(loop))
    if task is None or task.done():
        _sweepers[id(loop)] = loop.create_task(_sweep_forever(app), name="kefu-routing-sweep")


# --- the customer's widget ------------------------------------------------------------


class CustomerSocket(_Peer):
    def __init__(self, websocket: WebSocket, lang: Lang) -> None:
        super().__init__(websocket, lang)
        self.stream: _Stream | None = None
        self.public_id = ""
        self.status = ""
        self.last_state: dict[str, Any] | None = None

    async def hello(self) -> bool:
        try:
            frame = await asyncio.wait_for(self.receive(), HELLO_TIMEOUT)
        except TimeoutError:
            await self.ws.close(code=CLOSE_BAD_REQUEST)
            return False
        if (
            not frame
            or frame.get("type") != "hello"
            or not isinstance(frame.get("conversation_id"), str)
        ):
            await self.ws.close(code=CLOSE_BAD_REQUEST)
            return False
        public_id = frame["conversation_id"][:40]
        key = frame.get("key") if isinstance(frame.get("key"), str) else None
        after = _int(frame.get("after_seq"))
        bearer = _bearer(self.ws)

        def load(db: Session) -> tuple[int, str, str]:
            customer_id = None
            if bearer is not None:
                record = identity_service.resolve_token(db, bearer, kinds={"customer"})
                if record is None or record.customer_id is None:
                    raise NotFound("conversation not found")
                customer_id = record.customer_id
            # the owner key from the hello frame (not the URL: URLs reach access logs) or
            # the signed-in customer's own; anything else as an unknown conversation
            conversation = chat.for_owner(db, public_id, key=key, customer_id=customer_id)
            live.customer_back(db, conversation)
            return conversation.id, conversation.status, conversation.language

        try:
            conversation_id, self.status, language = await in_thread(self.ws, load)
        except NotFound:
            await self.ws.close(code=CLOSE_NOT_FOUND)
            return False
        self.public_id = public_id
        self.lang = normalise_lang(language) or self.lang
        self.stream = _Stream(conversation_id, after, internal=False)
        return True

    async def catch_up(self, message: dict[str, Any] | None = None) -> None:
        stream = self.stream
        assert stream is not None
        await _deliver(self, stream, message, _for_customer)

    def _wait_info(self, db: Session) -> live.WaitInfo:
        assert self.stream is not None
        conversation = db.get(Conversation, self.stream.conversation_id)
        if conversation is None:
            raise NotFound("conversation not found")
        return live.wait_info(db, conversation)

    async def start(self) -> None:
        """What the widget needs on (re)connecting, in one database visit: the messages
        after its last one and where the chat stands."""
        stream = self.stream
        assert stream is not None
        async with stream.lock:
            payloads, info = await in_thread(
                self.ws, lambda db: (stream.backlog(db), self._wait_info(db))
            )
            for payload in stream.fresh(payloads):
                await self.send(_for_customer(payload))
        await self.show(info, force=True)

    async def send_state(self) -> None:
        await self.show(await in_thread(self.ws, self._wait_info))

    async def show(self, info: live.WaitInfo, *, force: bool = False) -> None:
        self.status = info.status
        state = {
            "type": "state",
            "status": info.status,
            "position": info.position,
            "minutes": info.minutes,
            "agent_name": info.agent_name,
            "waiting_for": info.waiting_for,
        }
        if force or state != self.last_state:
            self.last_state = state
            await self.send(state)

    async def on_bus(self, _channel: str, message: dict[str, Any]) -> None:
        stream = self.stream
        assert stream is not None
        kind = message.get("type")
        if kind == "message":
            await self.catch_up(message)
        elif kind == "status":
            await self.send_state()
        elif kind == "typing" and message.get("from") == "agent":
            await self.send({"type": "typing", "from": "agent"})
        elif kind == "resync":
            await self.catch_up()
            await self.send_state()

    async def on_frame(self, frame: dict[str, Any]) -> None:
        stream = self.stream
        assert stream is not None
        kind = frame["type"]
        if kind == "ping":
            await self.send({"type": "pong"})
        elif kind == "typing":
            if self.status in ("queued", "active") and self.typing_allowed():
                await bus.get_bus().publish(
                    chat.channel(stream.conversation_id),
                    {
                        "type": "typing",
                        "conversation_id": stream.conversation_id,
                        "from": "customer",
                    },
                )
        elif kind == "message":
            await self.on_message(frame)
        elif kind == "leave":

            def leave(db: Session) -> None:
                conversation = chat.by_public_id(db, self.public_id)
                live.customer_leaves(db, conversation)

            await self.attempt(leave)
        elif kind == "state":
            await self.show(await in_thread(self.ws, self._wait_info), force=True)
        else:
            await self.send({"type": "error", "code": "bad_frame", "message": "unknown type"})

    async def on_message(self, frame: dict[str, Any]) -> None:
        stream = self.stream
        assert stream is not None
        client_msg_id = _client_msg_id(frame)
        text = frame.get("text")
        if not self.bucket.take():
            await self.send(
                {
                    "type": "error",
                    "code": "too_many_requests",
                    "message": translate("chat.error.slow_down", self.lang),
                    "client_msg_id": client_msg_id,
                }
            )
            return
        settings = _settings(self.ws)

        def say(db: Session) -> int:
            conversation = chat.locked(db, stream.conversation_id)
            if conversation is None:
                raise NotFound("conversation not found")
            stored = live.customer_says(
                db,
                conversation,
                text if isinstance(text, str) else "",
                settings=settings,
                senders=get_senders(self.ws),
                wallet=get_wallet(self.ws, db),
                client_msg_id=client_msg_id,
            )
            return stored[0].seq if stored else 0

        seq = await self.attempt(say, client_msg_id=client_msg_id)
        if seq is not None:
            await self.send({"type": "ack", "client_msg_id": client_msg_id, "seq": seq})

    async def gone(self) -> None:
        if self.status != "queued":
            return

        def away(db: Session) -> None:
            conversation = chat.by_public_id(db, self.public_id)
            live.customer_gone(db, conversation)

        await in_thread(self.ws, away)


async def _deliver(
    peer: _Peer,
    stream: _Stream,
    message: dict[str, Any] | None,
    shape: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    """Pass on a live message, or (no message, or a gap before it) whatever the database
    has after the last one passed on."""
    async with stream.lock:
        if stream.closed:
            return
        seq = _int(message.get("seq")) if message is not None else 0
        if message is not None and seq <= stream.last_seq:
            return
        if message is not None and seq == stream.last_seq + 1:
            payloads = [message]
        else:
            payloads = await in_thread(peer.ws, stream.backlog)
            if message is not None:
                payloads.append(message)
        for payload in stream.fresh(payloads):
            await peer.send(shape(payload))


async def _pump(
    sub: bus.Subscription,
    handle: Callable[[str, dict[str, Any]], Any],
    every: float = 0.0,
    tick: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Pass the bus's messages on in order; with ``tick``, also call it every ``every``
    seconds, in this task (a task of its own for the timer held ~1.5 KB an open socket)."""
    loop = asyncio.get_running_loop()
    due = loop.time() + every
    while True:
        if tick is not None:
            if loop.time() >= due:
                await tick()
                due = loop.time() + every
                continue
            if not await sub.wait(due):
                continue
        channel, message = await sub.get()
        if sub.overflowed:
            sub.overflowed = False
            await handle("", {"type": "resync"})
        await handle(channel, message)


async def _run(
    peer: _Peer,
    handle: Callable[[dict[str, Any]], Awaitable[None]],
    pump: Coroutine[Any, Any, None],
) -> None:
    """Read the client's frames in the socket's own task while ``pump`` passes the bus's
    messages on in a task of its own, until either ends (the client left, or an error).

    The reading is not a task of its own: that task and ``asyncio.wait``'s plumbing around
    the two held ~1.4 KB an open socket, and the reading task's exception, through its
    traceback, kept every closed socket in a cycle until a full collection
    (docs/performance.md). A pump that ends first cancels the reading instead."""
    reader = asyncio.current_task()
    assert reader is not None
    pumping = asyncio.get_running_loop().create_task(pump)
    reading = True

    def pump_ended(_task: asyncio.Task[None]) -> None:
        # the callback may already be scheduled when the reading ends on its own
        if reading:
            reader.cancel()

    pumping.add_done_callback(pump_ended)
    try:
        while True:
            frame = await peer.receive()
            if frame is not None:
                await handle(frame)
    except (WebSocketDisconnect, WebSocketDisconnected):
        # the client left: while reading (WebSocketDisconnect), or before an answer to its
        # last frame could be written (WebSocketDisconnected)
        pass
    except asyncio.CancelledError:
        # cancelled by the pump's end alone: the socket ends as the pump did
        if not pumping.done() or pumping.cancelled() or reader.uncancel() > 0:
            raise
    finally:
        reading = False
        ended = pumping.done()
        if not ended:
            pumping.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pumping
    error = pumping.exception() if ended and not pumping.cancelled() else None
    if error is not None and not isinstance(error, WebSocketDisconnect | WebSocketDisconnected):
        raise error


def _bearer(websocket: WebSocket) -> str | None:
    header = websocket.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def customer_socket(websocket: WebSocket) -> None:
    """The widget: ``{"type": "hello", "conversation_id": ..., "key": ..., "after_seq": n}``
    first (``key`` the owner key from the start; an app may send its customer's bearer
    token with the upgrade instead), then ``message`` / ``typing`` / ``leave`` / ``state``
    / ``ping`` frames. A conversation not the caller's closes the socket with 4404."""
    settings = _settings(websocket)
    await websocket.accept()
    peer = CustomerSocket(websocket, settings.default_language)
    if not await peer.hello():
        return
    stream = peer.stream
    assert stream is not None
    ensure_sweeper(websocket.app)
    sub = await bus.get_bus().subscribe(chat.channel(stream.conversation_id))
    try:
        await peer.start()

        async def refresh() -> None:
            if peer.status == "queued":
                await peer.send_state()

        await _run(peer, peer.on_frame, _pump(sub, peer.on_bus, POSITION_EVERY, refresh))
    finally:
        sub.close()
        try:
            await peer.gone()
        except Exception:
            log.exception("could not record that the customer left")


# --- the agent console -----------------------------------------------------------------


def _same_origin(websocket: WebSocket) -> bool:
    """Browsers send cookies with any page's websocket; only our own pages may use them."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == websocket.headers.get("host", "")


class ConsoleSocket(_Peer):
    def __init__(self, websocket: WebSocket, staff: StaffUser) -> None:
        # a refusal is shown on the page that sent the frame: in the page's language
        # (``?lang=``), else the agent's own
        page = normalise_lang(websocket.query_params.get("lang"))
        lang = page or normalise_lang(staff.language) or "zh-CN"
        super().__init__(websocket, lang)
        self.staff = staff
        self.sub: bus.Subscription | None = None
        self.streams: dict[int, _Stream] = {}

    async def watch(self, conversation_id: int, after: int) -> None:
        """Follow a chat: listen first, then one database visit checks the agent may see it
        and reads what came after ``after`` (anything arriving meanwhile waits its turn on
        the stream's lock, and duplicates are dropped by ``seq``)."""
        assert self.sub is not None
        staff = self.staff
        if conversation_id in self.streams:
            await _deliver(self, self.streams[conversation_id], None, _same)
            return
        stream = _Stream(conversation_id, after, internal=True)
        async with stream.lock:
            self.streams[conversation_id] = stream
            self.sub.add(chat.channel(conversation_id))

            def check_and_read(db: Session) -> list[dict[str, Any]]:
                live.conversation_for_staff(db, staff, conversation_id)
                return stream.backlog(db)

            payloads = await self.attempt(check_and_read, conversation_id=conversation_id)
            if payloads is None:
                stream.closed = True
                del self.streams[conversation_id]
                self.sub.discard(chat.channel(conversation_id))
                return
            for payload in stream.fresh(payloads):
                await self.send(payload)

    async def on_bus(self, channel: str, message: dict[str, Any]) -> None:
        kind = message.get("type")
        conversation_id = message.get("conversation_id")
        stream = self.streams.get(conversation_id) if isinstance(conversation_id, int) else None
        if kind == "message" and stream is not None:
            await _deliver(self, stream, message, _same)
        elif kind == "typing" and stream is not None and message.get("from") == "customer":
            await self.send(message)
        elif kind == "resync":
            for each in list(self.streams.values()):
                await _deliver(self, each, None, _same)
            await self.send({"type": "work", "change": "resync"})
        elif kind == "work":
            await self.on_work(channel, message)
        elif kind in ("presence", "status", "notification", "notifications_read"):
            await self.send(message)

    async def on_work(self, channel: str, message: dict[str, Any]) -> None:
        """Work of this agent's (from their own channel) is ``mine``; the rest of the queue
        is ``queue`` — the page refreshes at once for the first, now and then for the other."""
        item = message.get("item") or {}
        if channel == routing.QUEUES_CHANNEL:
            if self.staff.id in (item.get("offered_to_id"), item.get("assigned_staff_id")):
                return  # the copy on the agent's own channel says it
            await self.send({**message, "scope": "queue"})
        else:
            await self.send({**message, "scope": "mine"})

    async def on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        conversation_id = frame.get("conversation_id")
        if kind == "ping":
            await self.send({"type": "pong"})
        elif kind == "watch" and isinstance(conversation_id, int):
            await self.watch(conversation_id, _int(frame.get("after_seq")))
        elif kind == "unwatch" and isinstance(conversation_id, int):
            if self.streams.pop(conversation_id, None) is not None and self.sub is not None:
                self.sub.discard(chat.channel(conversation_id))
        elif kind == "typing" and conversation_id in self.streams:
            if self.typing_allowed():
                await bus.get_bus().publish(
                    chat.channel(conversation_id),
                    {"type": "typing", "conversation_id": conversation_id, "from": "agent"},
                )
        elif kind == "message" and conversation_id in self.streams:
            await self.on_message(frame, conversation_id)
        else:
            await self.send({"type": "error", "code": "bad_frame", "message": "unknown type"})

    async def on_message(self, frame: dict[str, Any], conversation_id: int) -> None:
        client_msg_id = _client_msg_id(frame)
        text = frame.get("text")
        internal = frame.get("internal") is True
        staff = self.staff

        def say(db: Session) -> int:
            conversation = live.conversation_for_staff(db, staff, conversation_id, lock=True)
            message = live.agent_says(
                db,
                conversation,
                staff,
                text if isinstance(text, str) else "",
                internal=internal,
                client_msg_id=client_msg_id,
            )
            return message.seq

        seq = await self.attempt(say, client_msg_id=client_msg_id, conversation_id=conversation_id)
        if seq is None:
            return
        await self.send(
            {
                "type": "ack",
                "client_msg_id": client_msg_id,
                "conversation_id": conversation_id,
                "seq": seq,
            }
        )


def _staff_from_cookie(db: Session, token: str | None) -> StaffUser | None:
    if not token:
        return None
    record = identity_service.resolve_token(db, token, kinds={"session", "api"})
    if record is None or record.staff_user_id is None:
        return None
    staff = db.get(StaffUser, record.staff_user_id)
    if staff is None or not staff.is_active or not has_permission(staff.role, "chat.work"):
        return None
    db.expunge(staff)
    return staff


async def console_socket(websocket: WebSocket) -> None:
    """The console: offers, queue changes and the chats it ``watch``es, for the signed-in
    agent (session cookie, or an API token in ``Authorization: Bearer``)."""
    header = websocket.headers.get("authorization", "")
    scheme, _, bearer = header.partition(" ")
    token = bearer.strip() if scheme.lower() == "bearer" else websocket.cookies.get(SESSION_COOKIE)
    if not _same_origin(websocket):
        await websocket.close(code=CLOSE_NOT_AUTHENTICATED)
        return
    staff = await in_thread(websocket, lambda db: _staff_from_cookie(db, token))
    if staff is None:
        await websocket.close(code=CLOSE_NOT_AUTHENTICATED)
        return
    await websocket.accept()
    peer = ConsoleSocket(websocket, staff)
    ensure_sweeper(websocket.app)
    # ``?scope=notifications``: a console page other than the live-chat ones only needs
    # what is addressed to this staff member, not every move of the queue
    channels = [routing.agent_channel(staff.id)]
    if websocket.query_params.get("scope") != "notifications":
        channels.append(routing.QUEUES_CHANNEL)
    peer.sub = await bus.get_bus().subscribe(*channels)
    try:
        await peer.send({"type": "hello", "staff_id": staff.id})
        await _run(peer, peer.on_frame, _pump(peer.sub, peer.on_bus))
    finally:
        peer.sub.close()


HANDLERS: dict[str, Callable[[WebSocket], Any]] = {
    "/ws/chat": customer_socket,
    "/ws/console": console_socket,
}


class Sockets:
    """ASGI middleware that hands ``/ws/chat`` and ``/ws/console`` straight to their
    handlers, past FastAPI's router.

    Whatever stands between the server and a handler stays suspended for as long as the
    socket is open, that is, as long as a chat is. Through the router that was some twenty
    coroutines, three exit stacks, a second ``WebSocket`` and the closures around them, for
    handlers that use none of it: they take no dependencies and close the socket with
    their own codes (bench/chat.py, see docs/performance.md). The edge middlewares
    outside this one (``kefu.edge``) still see every socket."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = HANDLERS.get(scope["path"]) if scope["type"] == "websocket" else None
        if handler is None:
            await self.app(scope, receive, send)
            return
        await handler(WebSocket(scope, receive, send))
