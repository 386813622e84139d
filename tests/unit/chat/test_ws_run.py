"""A chat socket's two loops: the client's frames are read in the socket's own task while
the bus's messages are passed on in another. Whichever ends first ends the socket, an
error of either is the socket's, and the socket's task is left without a cancellation
meant for the loops (its handler still records that the customer left)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.websockets import WebSocket, WebSocketDisconnected

from kefu.chat.ws import _Peer, _run


class Channel:
    """The server's side of one websocket, as uvicorn hands it to the app."""

    def __init__(self) -> None:
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        return await self.incoming.get()

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    def frame(self, text: str) -> None:
        self.incoming.put_nowait({"type": "websocket.receive", "text": text})

    def leave(self) -> None:
        self.incoming.put_nowait({"type": "websocket.disconnect", "code": 1001})


async def connected(channel: Channel) -> _Peer:
    scope = {"type": "websocket", "path": "/ws/chat", "headers": [], "query_string": b""}
    websocket = WebSocket(scope, channel.receive, channel.send)
    channel.incoming.put_nowait({"type": "websocket.connect"})
    await websocket.accept()
    return _Peer(websocket, "en")


async def forever(stopped: list[str]) -> None:
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        stopped.append("pump")
        raise


def test_the_client_leaving_ends_the_socket_and_stops_the_pump() -> None:
    async def scenario() -> None:
        channel = Channel()
        peer = await connected(channel)
        frames: list[dict[str, Any]] = []
        stopped: list[str] = []

        async def handle(frame: dict[str, Any]) -> None:
            frames.append(frame)
            await asyncio.sleep(0)  # the pump is under way
            channel.leave()

        channel.frame('{"type": "ping"}')
        await _run(peer, handle, forever(stopped))
        assert frames == [{"type": "ping"}]
        assert stopped == ["pump"]
        task = asyncio.current_task()
        assert task is not None and task.cancelling() == 0

    asyncio.run(scenario())


def test_a_pump_that_fails_ends_the_reading_with_its_error() -> None:
    async def scenario() -> None:
        channel = Channel()
        peer = await connected(channel)

        async def failing() -> None:
            await asyncio.sleep(0)
            raise RuntimeError("the bus broke")

        async def handle(frame: dict[str, Any]) -> None:
            raise AssertionError("no frame was sent")

        with pytest.raises(RuntimeError, match="the bus broke"):
            await _run(peer, handle, failing())
        task = asyncio.current_task()
        assert task is not None and task.cancelling() == 0
        await asyncio.sleep(0)  # not cancelled on the way out either

    asyncio.run(scenario())


def test_a_pump_that_finds_the_client_gone_ends_the_socket_quietly() -> None:
    async def scenario() -> None:
        channel = Channel()
        peer = await connected(channel)

        async def writing_to_a_gone_client() -> None:
            await asyncio.sleep(0)
            raise WebSocketDisconnected()

        async def handle(frame: dict[str, Any]) -> None:
            raise AssertionError("no frame was sent")

        await _run(peer, handle, writing_to_a_gone_client())
        await asyncio.sleep(0)

    asyncio.run(scenario())


def test_a_pump_ending_as_the_client_leaves_cancels_nothing_after_the_socket() -> None:
    async def scenario() -> None:
        channel = Channel()
        peer = await connected(channel)

        async def ends_as_the_client_leaves() -> None:
            # the reading wakes first; the pump's end is noticed on the next turn of the
            # loop, when the socket's task has already left the reading
            channel.leave()
            raise WebSocketDisconnected()

        async def handle(frame: dict[str, Any]) -> None:
            raise AssertionError("no frame was sent")

        await _run(peer, handle, ends_as_the_client_leaves())
        # what the handler does next (record that the customer left) is not cancelled
        for _ in range(3):
            await asyncio.sleep(0)

    asyncio.run(scenario())


def test_cancelling_the_socket_stops_the_reading_and_the_pump() -> None:
    async def scenario() -> None:
        channel = Channel()
        peer = await connected(channel)
        stopped: list[str] = []

        async def handle(frame: dict[str, Any]) -> None:
            raise AssertionError("no frame was sent")

        socket = asyncio.ensure_future(_run(peer, handle, forever(stopped)))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        socket.cancel()
        with pytest.raises(asyncio.CancelledError):
            await socket
        assert stopped == ["pump"]

    asyncio.run(scenario())
