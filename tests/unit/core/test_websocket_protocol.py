"""What ``kefu serve``'s websocket protocol keeps instead of uvicorn's queue and event: the
app's messages come out once and in order, a reader cancelled while a message was handed
to it leaves that message for the next read, and a write waits until writing resumes."""

from __future__ import annotations

import asyncio

import pytest

from kefu.websocket_protocol import Flag, Inbox


def test_messages_come_out_in_order_and_once() -> None:
    async def scenario() -> None:
        inbox = Inbox()
        assert inbox.empty()
        reading = asyncio.ensure_future(inbox.get())
        await asyncio.sleep(0)
        inbox.put_nowait({"n": 1})
        inbox.put_nowait({"n": 2})
        assert await reading == {"n": 1}
        assert not inbox.empty()
        assert await inbox.get() == {"n": 2}
        assert inbox.empty()
        assert inbox.getters is None  # nothing kept once nobody waits

    asyncio.run(scenario())


def test_a_reader_cancelled_as_a_message_came_leaves_it_for_the_next() -> None:
    async def scenario() -> None:
        inbox = Inbox()
        first = asyncio.ensure_future(inbox.get())
        second = asyncio.ensure_future(inbox.get())
        await asyncio.sleep(0)
        inbox.put_nowait("hello")  # handed to the first reader...
        first.cancel()  # ...which is cancelled before it runs again
        with pytest.raises(asyncio.CancelledError):
            await first
        assert await asyncio.wait_for(second, 5) == "hello"
        assert inbox.empty()

    asyncio.run(scenario())


def test_a_cancelled_reader_takes_nothing() -> None:
    async def scenario() -> None:
        inbox = Inbox()
        reading = asyncio.ensure_future(inbox.get())
        await asyncio.sleep(0)
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
        inbox.put_nowait("later")
        assert await inbox.get() == "later"

    asyncio.run(scenario())


def test_writes_wait_while_the_flag_is_clear() -> None:
    async def scenario() -> None:
        writable = Flag()
        writable.set()
        assert await writable.wait() is True
        writable.clear()
        assert not writable.is_set()
        waiting = [asyncio.ensure_future(writable.wait()) for _ in range(2)]
        await asyncio.sleep(0)
        assert not any(w.done() for w in waiting)
        writable.set()
        assert await asyncio.gather(*waiting) == [True, True]
        assert writable.waiters is None

    asyncio.run(scenario())
