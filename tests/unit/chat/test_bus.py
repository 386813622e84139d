"""The in-process bus: a subscriber gets its channels' messages once and in order, and a
wait with a deadline ends at the deadline when nothing comes."""

from __future__ import annotations

import asyncio

from kefu.chat import bus


def test_a_subscriber_gets_its_messages_in_order_and_a_wait_ends_at_its_deadline() -> None:
    async def scenario() -> None:
        hub = bus.MemoryBus()
        sub = await hub.subscribe("chat:1")
        loop = asyncio.get_running_loop()
        assert await sub.wait(loop.time() + 0.01) is False
        waiting = asyncio.ensure_future(sub.get())
        await asyncio.sleep(0)
        await hub.publish("chat:1", {"seq": 1})
        await hub.publish("chat:2", {"seq": 1})
        await hub.publish("chat:1", {"seq": 2})
        assert await waiting == ("chat:1", {"seq": 1})
        assert await sub.wait(loop.time() + 60) is True
        assert await sub.get() == ("chat:1", {"seq": 2})
        assert sub.empty()
        sub.close()
        await hub.publish("chat:1", {"seq": 3})
        assert sub.empty()

    asyncio.run(scenario())
