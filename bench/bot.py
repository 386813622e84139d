"""The assistant through its API: ``POST /api/v1/bot/messages`` latency with many clients.

Starts ``kefu serve`` on a throwaway SQLite database (demo data loaded); each of N clients
holds a conversation of several messages (FAQ questions, a flow that asks for an amount,
small talk, junk), as fast as the server answers. Target: p95 < 50 ms at 50 clients.

    python bench/bot.py [--clients 50] [--messages 20]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time

import httpx
from _harness import demo_server, pct

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


async def client(base: str, n: int, rng: random.Random, latencies: list[float]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        conversation: str | None = None
        for _ in range(n):
            body: dict[str, str] = {"text": rng.choice(MESSAGES)}
            if conversation:
                body["conversation_id"] = conversation
            started = time.perf_counter()
            response = await http.post("/api/v1/bot/messages", json=body)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise SystemExit(f"bot failed: {response.status_code} {response.text[:200]}")
            data = response.json()
            # a conversation handed to a person stops being the assistant's: start another
            conversation = None if data["handoff"] else data["conversation_id"]


async def run(base: str, clients: int, messages: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    rng = random.Random(11)
    started = time.perf_counter()
    await asyncio.gather(
        *(client(base, messages, random.Random(rng.random()), latencies) for _ in range(clients))
    )
    return latencies, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--messages", type=int, default=20)
    args = parser.parse_args()
    if args.clients < 1 or args.messages < 1:
        parser.error("counts must be positive")
    with demo_server("bot", {"KEFU_BOT_MESSAGES_PER_MINUTE": "1000000"}) as base:
        httpx.post(f"{base}/api/v1/bot/messages", json={"text": "你好"}, timeout=60)  # warm up
        latencies, wall = asyncio.run(run(base, args.clients, args.messages))
    total = len(latencies)
    print(f"POST /api/v1/bot/messages: {total} messages, {args.clients} concurrent clients")
    print(
        f"  {total / wall:8.1f} msg/s   p50 {pct(latencies, 0.5) * 1000:6.1f} ms"
        f"   p95 {pct(latencies, 0.95) * 1000:6.1f} ms   p99 {pct(latencies, 0.99) * 1000:6.1f} ms"
    )


if __name__ == "__main__":
    main()
