"""The chat bus across processes (``kefu.chat.bus``): Redis pub/sub. Its own module, imported
when the settings choose it, so that a process on the memory bus does not load redis-py."""

from __future__ import annotations

import asyncio
import contextlib
import json

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from kefu.chat.bus import PREFIX, Message, Subscription, _Hub, log


class RedisBus:
    """Fan-out through Redis pub/sub; one pattern subscription per process."""

    RECONNECT_DELAY = 0.5

    def __init__(self, url: str) -> None:
        self.url = url
        self.hub = _Hub()
        self._sync = redis.Redis.from_url(
            url, retry=Retry(ExponentialBackoff(cap=1.0), 3), retry_on_error=[redis.ConnectionError]
        )
        self._async: aioredis.Redis | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ready: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _client(self) -> aioredis.Redis:
        loop = asyncio.get_running_loop()
        if self._async is None or self._loop is not loop:
            self._loop = loop
            self._async = aioredis.Redis.from_url(
                self.url,
                retry=AsyncRetry(ExponentialBackoff(cap=1.0), 3),
                retry_on_error=[redis.ConnectionError],
            )
            self._ready = asyncio.Event()
            self._reader = loop.create_task(self._read(), name="kefu-chat-bus-reader")
        return self._async

    async def _read(self) -> None:
        """Hand Redis's messages to this process's subscribers. Each confirmation of the
        subscription after the first means the connection was re-made (by redis-py or by
        this loop): messages may have been missed meanwhile, so every socket is told to
        read back from the database."""
        assert self._ready is not None
        confirmed = False
        while True:
            pubsub = None
            try:
                assert self._async is not None
                pubsub = self._async.pubsub()
                await pubsub.psubscribe(PREFIX + "*")
                while True:
                    raw = await pubsub.get_message(timeout=5.0)
                    if raw is None:
                        continue
                    if raw.get("type") == "psubscribe":
                        if confirmed:
                            self.hub.broadcast({"type": "resync"})
                        confirmed = True
                        self._ready.set()
                    elif raw.get("type") == "pmessage":
                        channel = raw["channel"].decode()[len(PREFIX) :]
                        self.hub.deliver([(channel, json.loads(raw["data"]))])
            except asyncio.CancelledError:
                raise
            except (redis.RedisError, OSError) as exc:
                log.warning("chat bus lost Redis (%s); reconnecting", exc)
                await asyncio.sleep(self.RECONNECT_DELAY)
            finally:
                if pubsub is not None:
                    with contextlib.suppress(redis.RedisError, OSError):
                        await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def subscribe(self, *channels: str) -> Subscription:
        self._client()
        assert self._ready is not None
        sub = self.hub.add(channels)
        await self._ready.wait()
        return sub

    async def publish(self, channel: str, message: Message) -> None:
        try:
            await self._client().publish(PREFIX + channel, json.dumps(message, ensure_ascii=False))
        except (redis.RedisError, OSError) as exc:
            log.warning("chat bus could not publish to Redis: %s", exc)

    def publish_nowait(self, items: list[tuple[str, Message]]) -> None:
        try:
            pipe = self._sync.pipeline(transaction=False)
            for channel, message in items:
                pipe.publish(PREFIX + channel, json.dumps(message, ensure_ascii=False))
            pipe.execute()
        except (redis.RedisError, OSError) as exc:
            # the message is stored; subscribers catch up from the database on the next one
            log.warning("chat bus could not publish to Redis: %s", exc)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._async is not None:
            await self._async.aclose()
        self._sync.close()
