"""Hotline webhooks under load: p99 latency with 200 calls in progress at once.

Starts ``kefu serve`` on a throwaway database (SQLite, or PostgreSQL with ``--postgres``;
demo data loaded) with carrier signatures required and a public URL that is not the
server's own address (as behind a proxy). Each simulated call is a software carrier
(``kefu.voice.simulator.Phone``) that signs every request as Twilio does and follows the
TwiML: the language menu, then one of several walks (menus and messages, the official
channels, checking a number, the queue with its wait loop every 5 s, identity by account
number with wrong codes). Every webhook request is timed.

Pacing (``--pace``): ``speech`` (default) presses the next key after hearing part of what
was said (prompts are spoken at about 4.5 Chinese characters or 2.5 English words a
second; callers barge in after 30-100 % of it) plus 0.5-2 s to react, as callers do; a
number of seconds instead waits that long on average; ``0`` presses the moment an answer
arrives, far more than 200 real calls could send.

    python bench/voice.py [--calls 200] [--pace speech|SECONDS] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable

import httpx
from _harness import demo_server, pct, postgres_database

from kefu.voice.signatures import sign
from kefu.voice.simulator import Phone, Said

TOKEN = "bench-carrier-auth-token"  # noqa: S105 - the bench server's own
PUBLIC = "https://hotline.bench.example"


async def walk_menus(phone: Phone, pause: Callable[[], Awaitable[None]]) -> None:
    for keys in ("1", "1", "2", "*", "9"):
        await phone.press(keys)
        await pause()
    await phone.silence()


async def walk_channels(phone: Phone, pause: Callable[[], Awaitable[None]]) -> None:
    for keys in ("2", "6", "2"):
        await phone.press(keys)
        await pause()


async def walk_check(phone: Phone, pause: Callable[[], Awaitable[None]]) -> None:
    for keys in ("1", "6", "1", "95099"):
        await phone.press(keys)
        await pause()


async def walk_queue(phone: Phone, pause: Callable[[], Awaitable[None]]) -> None:
    for keys in ("1", "0"):
        await phone.press(keys)
        await pause()
    for _ in range(3):
        await phone.poll()
        await pause()


async def walk_identity(phone: Phone, pause: Callable[[], Awaitable[None]]) -> None:
    for keys in ("1", "2", "1", "987654321", "000000", "111111"):
        await phone.press(keys)
        await pause()


WALKS = (walk_menus, walk_channels, walk_check, walk_queue, walk_identity)


def speaking_seconds(said: list[Said]) -> float:
    seconds = 0.0
    for line in said:
        text = line.text or ""
        if line.lang == "zh-CN":
            seconds += len(text) / 4.5
        else:
            seconds += len(text.split()) / 2.5
    return seconds


async def run(calls: int, pace: str, base: str) -> tuple[dict[str, list[float]], int]:
    latencies: dict[str, list[float]] = {}
    errors = 0
    limits = httpx.Limits(max_connections=calls, max_keepalive_connections=calls)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def post(url: str, form: dict[str, str]) -> str:
            headers = {"X-Twilio-Signature": sign(TOKEN, url, form)}
            started = time.perf_counter()
            response = await client.post(url.removeprefix(PUBLIC), data=form, headers=headers)
            endpoint = url.removeprefix(PUBLIC).partition("?")[0]
            latencies.setdefault(endpoint, []).append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            return response.text

        def pauser(phone: Phone) -> Callable[[], Awaitable[None]]:
            heard = 0

            async def pause() -> None:
                nonlocal heard
                if pace == "speech":
                    new, heard = phone.said[heard:], len(phone.said)
                    listened = speaking_seconds(new) * random.uniform(0.3, 1.0)
                    await asyncio.sleep(listened + random.uniform(0.5, 2.0))
                elif float(pace) > 0:
                    await asyncio.sleep(random.uniform(float(pace) * 0.5, float(pace) * 1.5))

            return pause

        async def one_call(index: int) -> None:
            nonlocal errors
            await asyncio.sleep(random.uniform(0, 10))  # calls arrive over ten seconds
            caller = f"+86139{index:08d}"
            phone = Phone.new(caller, "95099", post, PUBLIC)
            pause = pauser(phone)
            try:
                await phone.dial()
                await pause()
                await WALKS[index % len(WALKS)](phone, pause)
                await phone.hang_up()
            except (httpx.HTTPError, ValueError) as exc:
                errors += 1
                print(f"call {index} failed: {exc!r}")

        await asyncio.gather(*(one_call(i) for i in range(calls)))
    return latencies, errors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--pace", default="speech", help="speech, or mean seconds between keys")
    parser.add_argument("--postgres", default="", help="a PostgreSQL server URL to use instead")
    parser.add_argument("--target-ms", type=float, default=50.0)
    args = parser.parse_args()
    if args.calls < 1:
        parser.error("--calls must be positive")
    if args.pace != "speech":
        try:
            if float(args.pace) < 0:
                raise ValueError(args.pace)
        except ValueError:
            parser.error("--pace is speech or a number of seconds, not negative")
    extra = {
        "KEFU_VOICE_AUTH_TOKEN": TOKEN,
        "KEFU_VOICE_PUBLIC_URL": PUBLIC,
        "KEFU_VOICE_QUEUE_REFRESH_SECONDS": "5",
    }
    with postgres_database(args.postgres, "voice") as url:
        if url:
            extra["KEFU_DATABASE_URL"] = url
        with demo_server("voice", extra) as base:
            started = time.perf_counter()
            by_endpoint, errors = asyncio.run(run(args.calls, args.pace, base))
            elapsed = time.perf_counter() - started
    latencies = [ms for values in by_endpoint.values() for ms in values]
    p99 = pct(latencies, 0.99)
    where = "PostgreSQL" if args.postgres else "SQLite"
    print(f"calls in progress at once: {args.calls} (pace {args.pace}, {where})")
    rate = len(latencies) / elapsed
    print(f"webhook requests: {len(latencies)} in {elapsed:.1f} s ({rate:.0f}/s)")
    print(
        f"latency ms: p50 {pct(latencies, 0.5):.1f}  p95 {pct(latencies, 0.95):.1f}  "
        f"p99 {p99:.1f}  max {max(latencies):.1f}  mean {statistics.fmean(latencies):.1f}"
    )
    for endpoint, values in sorted(by_endpoint.items()):
        print(
            f"  {endpoint:<20} {len(values):>5} requests  p50 {pct(values, 0.5):6.1f}  "
            f"p99 {pct(values, 0.99):6.1f} ms"
        )
    print(f"failed calls: {errors}")
    verdict = "met" if p99 < args.target_ms and errors == 0 else "NOT met"
    print(f"target p99 < {args.target_ms:.0f} ms: {verdict}")


if __name__ == "__main__":
    main()
