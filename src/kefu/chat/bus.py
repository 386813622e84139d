"""The chat bus: publish/subscribe between the open websockets of live chat.

The database is the record (every message has its per-conversation ``seq``); the bus only
tells the sockets that something happened, so a message published while a socket was
down is never lost — the socket notices the gap in ``seq`` and reads it back.

- ``MemoryBus`` (one process, the default): subscriptions are asyncio queues.
- ``RedisBus`` (``KEFU_REDIS_URL`` set, or ``KEFU_CHAT_BUS=redis``; ``kefu.chat.redis_bus``,
  imported only then, so a process on the memory bus loads no redis-py): every process
  pattern-subscribes once to ``kefu:chat:*`` and hands messages to its local subscribers,
  so any number of app processes serve one chat. Each process receives all chat traffic,
  which is small next to what a Redis connection carries (the bench measures it).

Services never publish directly: they call ``after_commit(db, channel, message)`` and the
messages go out when the session commits, and are dropped if it rolls back — nobody is
told about a message that was not stored.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from kefu.config import Settings, get_settings
from kefu.errors import ConfigError

log = logging.getLogger("kefu.chat.bus")

Message = dict[str, Any]
PREFIX = "kefu:chat:"
BACKENDS = ("auto", "memory", "redis")
_PENDING = "kefu.chat.bus.pending"
QUEUE_LIMIT = 1000  # a subscriber this far behind is cut off and resyncs from the database


class Subscription:
    """The channels one consumer reads, on the event loop it subscribed from. Channels can
    be added and dropped while it is open (an agent opens and closes chats).

    Its messages wait in a deque for the one task that reads them, woken by a future of
    its own: an ``asyncio.Queue`` holds four deques and an event even when empty, ~2.5 KB
    a socket that stays open as long as its chat (bench/chat.py)."""

    def __init__(self, hub: _Hub, channels: tuple[str, ...]) -> None:
        self.hub = hub
        self.channels: set[str] = set(channels)
        self.loop = asyncio.get_running_loop()
        self.thread = threading.get_ident()
        self.items: deque[tuple[str, Message]] = deque()
        self.waiter: asyncio.Future[None] | None = None
        self.overflowed = False

    def put(self, item: tuple[str, Message]) -> None:
        """On the subscriber's own loop only."""
        if len(self.items) >= QUEUE_LIMIT:
            self.overflowed = True
            return
        self.items.append(item)
        if self.waiter is not None:
            _wake(self.waiter)

    async def get(self) -> tuple[str, Message]:
        """The next message, waiting for one; for one reader at a time."""
        while not self.items:
            self.waiter = self.loop.create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        return self.items.popleft()

    async def wait(self, until: float) -> bool:
        """Wait for a message until the loop's clock reads ``until``; whether one came."""
        if not self.items:
            self.waiter = self.loop.create_future()
            timer = self.loop.call_at(until, _wake, self.waiter)
            try:
                await self.waiter
            finally:
                self.waiter = None
                timer.cancel()
        return bool(self.items)

    def empty(self) -> bool:
        return not self.items

    def add(self, channel: str) -> None:
        self.hub.join(self, channel)

    def discard(self, channel: str) -> None:
        self.hub.leave(self, channel)

    def close(self) -> None:
        for channel in list(self.channels):
            self.hub.leave(self, channel)


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class _Hub:
    """The subscribers of this process, by channel."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, set[Subscription]] = {}

    def add(self, channels: tuple[str, ...]) -> Subscription:
        sub = Subscription(self, ())
        for channel in channels:
            self.join(sub, channel)
        return sub

    def join(self, sub: Subscription, channel: str) -> None:
        with self._lock:
            sub.channels.add(channel)
            self._subs.setdefault(channel, set()).add(sub)

    def leave(self, sub: Subscription, channel: str) -> None:
        with self._lock:
            sub.channels.discard(channel)
            members = self._subs.get(channel)
            if members is not None:
                members.discard(sub)
                if not members:
                    del self._subs[channel]

    def deliver(self, items: list[tuple[str, Message]]) -> None:
        """Hand messages to their subscribers from any thread: directly on a subscriber's
        own loop, else in one call per loop (one wake-up however many there are)."""
        batches: dict[asyncio.AbstractEventLoop, list[tuple[Subscription, tuple[str, Message]]]]
        batches = {}
        with self._lock:
            for item in items:
                for sub in self._subs.get(item[0], ()):
                    batches.setdefault(sub.loop, []).append((sub, item))
        here = threading.get_ident()
        for loop, batch in batches.items():
            if batch[0][0].thread == here:
                _put_all(batch)
            elif not loop.is_closed():
                loop.call_soon_threadsafe(_put_all, batch)

    def broadcast(self, message: Message) -> None:
        """To every subscriber once (a resync after the bus lost messages)."""
        with self._lock:
            members = {sub for subs in self._subs.values() for sub in subs}
        here = threading.get_ident()
        for sub in members:
            if sub.thread == here:
                sub.put(("", message))
            elif not sub.loop.is_closed():
                sub.loop.call_soon_threadsafe(sub.put, ("", message))

    def count(self) -> int:
        with self._lock:
            return len({sub for subs in self._subs.values() for sub in subs})


def _put_all(batch: list[tuple[Subscription, tuple[str, Message]]]) -> None:
    for sub, item in batch:
        sub.put(item)


class Bus(Protocol):
    async def subscribe(self, *channels: str) -> Subscription: ...

    async def publish(self, channel: str, message: Message) -> None: ...

    def publish_nowait(self, items: list[tuple[str, Message]]) -> None:
        """From any thread, without awaiting (what a commit announces, in order)."""
        ...

    async def close(self) -> None: ...


class MemoryBus:
    def __init__(self) -> None:
        self.hub = _Hub()

    async def subscribe(self, *channels: str) -> Subscription:
        return self.hub.add(channels)

    async def publish(self, channel: str, message: Message) -> None:
        self.hub.deliver([(channel, message)])

    def publish_nowait(self, items: list[tuple[str, Message]]) -> None:
        self.hub.deliver(items)

    async def close(self) -> None:
        return None


def backend_of(settings: Settings) -> str:
    """``auto`` means Redis when ``KEFU_REDIS_URL`` was set, memory otherwise."""
    choice = settings.chat_bus
    if choice not in BACKENDS:
        raise ConfigError(f"KEFU_CHAT_BUS={choice!r}; expected one of {sorted(BACKENDS)}")
    if choice == "auto":
        return "redis" if "redis_url" in settings.model_fields_set else "memory"
    return choice


def build_bus(settings: Settings) -> Bus:
    if backend_of(settings) == "redis":
        from kefu.chat.redis_bus import RedisBus

        return RedisBus(settings.redis_url)
    return MemoryBus()


_lock = threading.Lock()
_current: list[Bus] = []


def get_bus() -> Bus:
    """This process's bus, built from the settings on first use."""
    with _lock:
        if not _current:
            _current.append(build_bus(get_settings()))
        return _current[0]


def install(bus: Bus) -> None:
    """Use ``bus`` in this process from now on (a tool that commits chat changes from a
    process of its own, such as a test or a benchmark driver, joins the servers' Redis)."""
    with _lock:
        _current[:] = [bus]


def reset_bus() -> None:
    """Forget the bus (tests and the bench change settings between uses)."""
    with _lock:
        _current.clear()


def staff_channel(staff_id: int) -> str:
    """The channel of one staff member's open console pages: their work and notifications."""
    return f"agent:{staff_id}"


def after_commit(db: Session, channel: str, message: Message) -> None:
    """Publish ``message`` once the session's transaction commits; drop it on rollback
    (a rolled-back savepoint drops what was added inside it)."""
    db.info.setdefault(_PENDING, []).append((channel, message, db.get_nested_transaction()))


@event.listens_for(Session, "after_commit")
def _publish_pending(session: Session) -> None:
    """On the outermost commit only: a released savepoint fires this too, but its outer
    transaction may still roll back."""
    if session.get_nested_transaction() is not None:
        return
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    get_bus().publish_nowait([(channel, message) for channel, message, _savepoint in pending])


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous: SessionTransaction) -> None:
    if not previous.nested:
        session.info.pop(_PENDING, None)
        return
    pending = session.info.get(_PENDING)
    if pending:
        inside = {id(t) for t in _descendants(session, previous)}
        session.info[_PENDING] = [p for p in pending if p[2] is None or id(p[2]) not in inside]


def _descendants(session: Session, savepoint: SessionTransaction) -> list[SessionTransaction]:
    """The savepoint and those opened inside it that pending messages may name."""
    found = [savepoint]
    for _channel, _message, owner in session.info.get(_PENDING, ()):
        chain = owner
        while chain is not None and chain is not savepoint:
            chain = chain.parent
        if chain is savepoint and owner is not None:
            found.append(owner)
    return found
