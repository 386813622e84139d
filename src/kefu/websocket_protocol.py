"""The websocket protocol ``kefu serve`` runs: uvicorn's own (``websockets-sansio``) with
less held for as long as a socket is open.

A chat socket stays open as long as its chat, so whatever each one holds counts a
thousand times under bench/chat.py (docs/performance.md). uvicorn's protocol keeps, for
every socket, an ``asyncio.Queue`` of what the app has to read (three deques and an
event holding a fourth, ~3 KB even when empty), an ``asyncio.Event`` for whether it may
write (another deque) and the handshake's request and response with their headers
(~2.5 KB). None of it needs that much: the app reads one message at a time and uvicorn
pauses reading while one waits, a write waits only while the transport's buffer is full,
and the handshake is over once the socket is accepted. uvicorn is pinned
(``pyproject.toml``): this replaces what its 0.54 protocol keeps, nothing of what it does.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class Inbox:
    """``put_nowait``, ``get`` and ``empty`` of an unbounded ``asyncio.Queue``: what
    uvicorn's protocol asks of its queue. The readers' futures are kept only while some
    wait."""

    __slots__ = ("getters", "items")

    def __init__(self) -> None:
        self.items: list[Any] = []  # one message, rarely two: reading pauses meanwhile
        self.getters: list[asyncio.Future[None]] | None = None

    def put_nowait(self, item: Any) -> None:
        self.items.append(item)
        self._wake_next()

    async def get(self) -> Any:
        while not self.items:
            getter = asyncio.get_running_loop().create_future()
            if self.getters is None:
                self.getters = []
            self.getters.append(getter)
            try:
                await getter
            except asyncio.CancelledError:
                # a message handed to this reader as it was cancelled goes to the next one
                if getter.done() and not getter.cancelled() and self.items:
                    self._wake_next()
                raise
            finally:
                self.getters.remove(getter)
                if not self.getters:
                    self.getters = None
        return self.items.pop(0)

    def _wake_next(self) -> None:
        for getter in self.getters or ():
            if not getter.done():
                getter.set_result(None)
                return

    def empty(self) -> bool:
        return not self.items


class Flag:
    """``set``, ``clear``, ``is_set`` and ``wait`` of an ``asyncio.Event``, its waiters
    kept only while some wait."""

    __slots__ = ("value", "waiters")

    def __init__(self) -> None:
        self.value = False
        self.waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self.value

    def set(self) -> None:
        if self.value:
            return
        self.value = True
        for waiter in self.waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self.value = False

    async def wait(self) -> bool:
        if self.value:
            return True
        waiter = asyncio.get_running_loop().create_future()
        if self.waiters is None:
            self.waiters = []
        self.waiters.append(waiter)
        try:
            await waiter
            return True
        finally:
            self.waiters.remove(waiter)
            if not self.waiters:
                self.waiters = None


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's ``websockets-sansio`` protocol with the lighter queue and flag above, and
    without the handshake's request and response once the socket is accepted."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = Inbox()  # type: ignore[assignment]
        self.writable = Flag()  # type: ignore[assignment]
        self.writable.set()

    async def send(self, message: Any) -> None:
        await super().send(message)
        # read only until the handshake completes (the accept or a refusal)
        if self.handshake_complete:
            self.__dict__.pop("request", None)
            self.__dict__.pop("response", None)
