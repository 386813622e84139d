"""The assistant through its API: ``POST /api/v1/bot/messages`` latency with many clients.

Starts ``kefu serve`` on a throwaway database with the demo data (SQLite, or PostgreSQL
when ``KEFU_BENCH_POSTGRES_URL`` names a server); each of N clients holds a conversation
of several messages (FAQ questions, a flow that asks for an amount, small talk, junk).
Target: p95 < 50 ms at 50 clients.

Two runs. *Customers*: each client reads the reply and sends its next message after a
pause drawn uniformly between 0.5 and 1.5 times ``--think`` seconds (1 s by default:
faster than anyone types, so every client is nearly always waiting on the server or about
to). *Flat out*: no pause at all, which measures throughput: with N clients always
waiting, latency is N divided by throughput (Little's law), whatever the code does.

``--workers N`` serves with N web processes on the one port (``kefu serve --workers``,
through a Redis of the benchmark's own).

    python bench/bot.py [--clients 50] [--messages 20] [--think 1.0] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import time

import httpx
from _harness import demo_server, pct, postgres_database, redis_server

MESSAGES = [
    "怎么绑定银行卡",
    "充值没到账",
    "500元",
    "客服电话是多少",
    "打客服电话要钱吗",
    "转账限额是多少",
    "how do I change my payment password",
    "app keeps crashing when I open it",
    "在吗",
    "谢谢",
    "有什么优惠活动吗",
    "how do I turn off sms notifications",
    "😀😀",
]


async def client(
    base: str, n: int, rng: random.Random, latencies: list[float], think: float = 0.0
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        conversation: str | None = None
        owner: dict[str, str] = {}  # the owner key the first answer gave
        if think:  # customers arrive one by one, not all in the same millisecond
            await asyncio.sleep(rng.uniform(0.0, 1.5) * think)
        for _ in range(n):
            if think:
                await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
            body: dict[str, str] = {"text": rng.choice(MESSAGES)}
            if conversation:
                body["conversation_id"] = conversation
            started = time.perf_counter()
            response = await http.post("/api/v1/bot/messages", json=body, headers=owner)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise SystemExit(f"bot failed: {response.status_code} {response.text[:200]}")
            data = response.json()
            # a conversation handed to a person stops being the assistant's: start another
            conversation = None if data["handoff"] else data["conversation_id"]
            if data["conversation_key"]:
                owner = {"X-Kefu-Conversation-Key": data["conversation_key"]}


async def run(base: str, clients: int, messages: int, think: float) -> tuple[list[float], float]:
    latencies: list[float] = []
    rng = random.Random(11)
    started = time.perf_counter()
    await asyncio.gather(
        *(
            client(base, messages, random.Random(rng.random()), latencies, think)
            for _ in range(clients)
        )
    )
    return latencies, time.perf_counter() - started


def show(title: str, latencies: list[float], wall: float) -> None:
    print(f"  {title}: {len(latencies)} messages")
    print(
        f"    {len(latencies) / wall:8.1f} msg/s   p50 {pct(latencies, 0.5) * 1000:6.1f} ms"
        f"   p95 {pct(latencies, 0.95) * 1000:6.1f} ms   p99 {pct(latencies, 0.99) * 1000:6.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between turns")
    parser.add_argument("--workers", type=int, default=1, help="web processes")
    args = parser.parse_args()
    if args.clients < 1 or args.messages < 1 or args.think <= 0 or args.workers < 1:
        parser.error("counts and --think must be positive")
    server = os.environ.get("KEFU_BENCH_POSTGRES_URL", "")
    with (
        postgres_database(server, "bot") as url,
        redis_server() if args.workers > 1 else contextlib.nullcontext("") as redis_url,
    ):
        if args.workers > 1 and not redis_url:
            parser.error("--workers above 1 needs redis-server installed")
        extra = {
            "KEFU_BOT_MESSAGES_PER_MINUTE": "1000000",
            "KEFU_SERVE_WORKERS": str(args.workers),
        }
        if url:
            extra["KEFU_DATABASE_URL"] = url
        if redis_url:
            extra["KEFU_REDIS_URL"] = redis_url
        with demo_server("bot", extra) as base:
            if args.workers > 1:
                time.sleep(15)  # the first process answers while the others still train
            httpx.post(f"{base}/api/v1/bot/messages", json={"text": "你好"}, timeout=60)
            customers = asyncio.run(run(base, args.clients, args.messages, args.think))
            flat_out = asyncio.run(run(base, args.clients, args.messages, 0.0))
    where = "PostgreSQL" if url else "SQLite"
    processes = f", {args.workers} web processes" if args.workers > 1 else ""
    print(f"POST /api/v1/bot/messages, {args.clients} concurrent clients, {where}{processes}")
    show(f"customers (a pause of about {args.think:g} s between turns)", *customers)
    show("flat out (no pause: throughput)", *flat_out)


if __name__ == "__main__":
    main()
