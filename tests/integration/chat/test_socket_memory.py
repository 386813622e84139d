"""A chat socket's objects go when it closes, by reference counting alone. A served process
runs a full collection rarely (``kefu.heap``), so a socket left in a reference cycle kept
its objects, ~30 KB, until then: with widgets that reconnect, memory piled up
(docs/performance.md)."""

from __future__ import annotations

import gc
import time
import weakref
from collections.abc import Collection, Iterator
from typing import Any

import pytest
from tests.integration.chat.conftest import (
    ChatServer,
    accept_chat,
    make_agent,
    message,
    open_console,
    open_widget,
    queued_chat,
)

from kefu.chat.ws import ConsoleSocket, CustomerSocket
from kefu.websocket_protocol import LeanWebSocketProtocol


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()  # what earlier tests left
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


KINDS = (CustomerSocket, ConsoleSocket, LeanWebSocketProtocol)


def alive(besides: Collection[int] = ()) -> list[weakref.ref[Any]]:
    return [weakref.ref(o) for o in gc.get_objects() if type(o) in KINDS and id(o) not in besides]


def test_closed_chat_sockets_are_freed_without_the_collector(
    chat_server: ChatServer, collector_off: None
) -> None:
    # sockets of earlier tests' servers, stopped with their sockets open, stay as they were
    earlier = {id(ref()) for ref in alive()}
    agent = make_agent(chat_server)
    public_id, conversation_id = queued_chat(chat_server)
    accept_chat(chat_server, conversation_id, agent)
    console = open_console(chat_server, agent)
    console.send({"type": "watch", "conversation_id": conversation_id, "after_seq": 0})
    widget = open_widget(chat_server, public_id)
    widget.until(message("state"))
    widget.send({"type": "message", "text": "还在吗", "client_msg_id": "c-1"})
    widget.until(message("ack", client_msg_id="c-1"))
    console.until(message(sender="customer"))

    sockets = alive(earlier)
    assert len(sockets) == 4  # each side's socket and its protocol
    widget.close()
    console.close()
    deadline = time.monotonic() + 10
    while any(ref() is not None for ref in sockets) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [type(ref()).__name__ for ref in sockets if ref() is not None]
    assert left == []
