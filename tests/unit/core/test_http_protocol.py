"""``kefu serve``'s HTTP protocol joins the writes one step of the event loop makes: an
answer's head and body go out as one write, in order, and nothing held is lost when the
connection is closed or handed to a websocket; a real server answers as uvicorn's own."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from kefu.http_protocol import HOLD_BYTES, JoinedWrites, JoinedWritesProtocol


class Recorded:
    """A transport that keeps what was written to it, and in which order it was closed."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.events.append(data)

    def close(self) -> None:
        self.closing = True
        self.events.append("close")

    def write_eof(self) -> None:
        self.events.append("eof")

    def is_closing(self) -> bool:
        return self.closing

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5000)}.get(name, default)


def test_the_writes_of_one_step_go_out_as_one_at_its_end() -> None:
    async def scenario() -> None:
        recorded = Recorded()
        joined = JoinedWrites(recorded)  # type: ignore[arg-type]
        joined.write(b"HTTP/1.1 200 OK\r\n\r\n")
        joined.write(b"hello")
        assert recorded.events == []
        await asyncio.sleep(0)
        assert recorded.events == [b"HTTP/1.1 200 OK\r\n\r\nhello"]
        joined.write(b"later")  # a streamed chunk of a later step: on its own
        await asyncio.sleep(0)
        assert recorded.events[1:] == [b"later"]
        assert joined.get_extra_info("peername") == ("127.0.0.1", 5000)

    asyncio.run(scenario())


def test_a_large_write_goes_out_at_once_so_flow_control_sees_it() -> None:
    async def scenario() -> None:
        recorded = Recorded()
        joined = JoinedWrites(recorded)  # type: ignore[arg-type]
        joined.write(b"head")
        joined.write(b"x" * HOLD_BYTES)
        assert recorded.events == [b"head" + b"x" * HOLD_BYTES]
        joined.write(b"tail")
        await asyncio.sleep(0)
        assert recorded.events[1:] == [b"tail"]

    asyncio.run(scenario())


def test_closing_writes_what_is_held_first() -> None:
    async def scenario() -> None:
        recorded = Recorded()
        joined = JoinedWrites(recorded)  # type: ignore[arg-type]
        joined.write(b"head")
        joined.write(b"body")
        joined.close()
        assert recorded.events == [b"headbody", "close"]
        await asyncio.sleep(0)  # the step's own flush finds nothing left
        assert recorded.events == [b"headbody", "close"]

        ended = Recorded()
        joined = JoinedWrites(ended)  # type: ignore[arg-type]
        joined.write(b"last")
        joined.write_eof()
        assert ended.events == [b"last", "eof"]

    asyncio.run(scenario())


def test_nothing_is_written_to_a_connection_already_closing() -> None:
    async def scenario() -> None:
        recorded = Recorded()
        joined = JoinedWrites(recorded)  # type: ignore[arg-type]
        joined.write(b"answer")
        recorded.closing = True  # the client went away in the same step
        await asyncio.sleep(0)
        assert recorded.events == []

    asyncio.run(scenario())


async def _app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["path"] == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for part in (b"one,", b"two,", b"three"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
            await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b""})
        return
    body = b"hello " + scope["path"].encode()
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free: int = sock.getsockname()[1]
    config = uvicorn.Config(
        _app, host="127.0.0.1", port=free, log_level="warning", http=JoinedWritesProtocol
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "test server did not start"
        time.sleep(0.02)
    yield free
    server.should_exit = True
    thread.join(timeout=10)


def _read_until(conn: socket.socket, end: bytes) -> bytes:
    got = b""
    while not got.endswith(end):
        chunk = conn.recv(65536)
        if not chunk:
            break
        got += chunk
    return got


def test_a_kept_alive_connection_gets_each_answer_whole(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        for path in ("/one", "/two"):
            conn.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
            answer = _read_until(conn, b"hello " + path.encode())
            assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
            assert answer.endswith(b"\r\n\r\nhello " + path.encode())


def test_a_streamed_answer_and_a_closed_connection_lose_nothing(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"GET /stream HTTP/1.1\r\nHost: test\r\n\r\n")
        answer = _read_until(conn, b"0\r\n\r\n")
        assert b"transfer-encoding: chunked" in answer
        assert answer.endswith(b"4\r\none,\r\n4\r\ntwo,\r\n5\r\nthree\r\n0\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"GET /bye HTTP/1.0\r\n\r\n")  # HTTP/1.0: the server closes after it
        answer = _read_until(conn, b"\x00never")  # read to the end of the connection
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"connection: close" in answer
        assert answer.endswith(b"hello /bye")
