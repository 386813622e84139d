"""The HTTP protocol ``kefu serve`` runs: uvicorn's own (``httptools``), with a response's
head and body going out in one write.

uvicorn writes the status line and headers as soon as the app sends
``http.response.start`` and the body with ``http.response.body``: two ``send`` system
calls and, on the wire, two segments for every answer, each waking the client. Here the
writes one step of the event loop makes are joined and written at the end of that step
(``call_soon``), so an answer sent at once, as almost all are, is one write; a streamed
body's chunks still go out as they come, a step later at most, and a step that writes
more than ``HOLD_BYTES`` writes at once, so the transport's flow control (uvicorn waits
while its buffer is full) sees a large body as it did. uvicorn is pinned
(``pyproject.toml``): this changes where its writes go, nothing of what it writes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HOLD_BYTES = 64 * 1024  # asyncio's default high-water mark of a transport's buffer


class JoinedWrites:
    """The connection's transport as the protocol and its responses see it: ``write``
    holds the data until the loop's current step ends; everything else passes through,
    and whatever ends or hands over the connection writes what is held first."""

    __slots__ = ("held", "held_bytes", "loop", "transport")

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.loop = asyncio.get_running_loop()
        self.held: list[bytes] = []
        self.held_bytes = 0

    def write(self, data: bytes) -> None:
        if not self.held:
            self.loop.call_soon(self.flush)
        self.held.append(data)
        self.held_bytes += len(data)
        if self.held_bytes >= HOLD_BYTES:
            self.flush()

    def flush(self) -> None:
        if not self.held:
            return
        data = self.held[0] if len(self.held) == 1 else b"".join(self.held)
        self.held = []
        self.held_bytes = 0
        if not self.transport.is_closing():  # the client went away meanwhile
            self.transport.write(data)

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def write_eof(self) -> None:
        self.flush()
        self.transport.write_eof()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


class JoinedWritesProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(JoinedWrites(transport))  # type: ignore[arg-type]

    def handle_websocket_upgrade(self) -> None:
        # the socket's protocol takes the connection as it is: its frames are not held
        joined = self.transport
        assert isinstance(joined, JoinedWrites)
        joined.flush()
        self.transport = joined.transport
        super().handle_websocket_upgrade()
