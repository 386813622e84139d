"""One instance against two: case creation and assistant turns on PostgreSQL and Redis.

The set-up of docs/deploy.md on one machine: a throwaway PostgreSQL database (from
``KEFU_BENCH_POSTGRES_URL``; skipped with a note when unset), a Redis of the benchmark's
own, the demo data, and ``kefu serve`` instances with ``KEFU_JOBS_BACKEND=redis`` and
``KEFU_JOBS_INLINE=false``. First one instance takes all the clients, then a second one
starts and the clients alternate between the two, as a load balancer would send them.

Each run: ``--clients`` concurrent clients create ``--cases`` cases through
``POST /api/v1/cases``, then hold assistant conversations through
``POST /api/v1/bot/messages`` (``--turns`` turns in all), flat out (no pause). On one
machine both instances share its cores, so the second instance shows that the shared
database and Redis do not serialise the instances, not what a second machine adds; on two
machines run the same clients against each instance's address.

    KEFU_BENCH_POSTGRES_URL=postgresql+psycopg://user@host/postgres \\
        python bench/scale.py [--cases 400] [--turns 400] [--clients 16]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from _harness import free_port, pct, postgres_database, redis_server

CATEGORIES = ["recharge_not_credited", "transfer_not_arrived", "payment_failed", "refund"]
SUBJECTS = ["充值{a}元没到账", "转账给朋友{a}元对方没收到", "Top-up of {a} not credited"]
MESSAGES = ["怎么绑定银行卡", "充值没到账", "500元", "转账限额是多少", "在吗", "谢谢"]
# one request of a client: its HTTP client, its random draws, what it keeps between requests
Request = Callable[[httpx.AsyncClient, random.Random, dict[str, str]], Awaitable[None]]


@contextmanager
def instance(env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "kefu", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
            if process.poll() is not None:
                raise SystemExit("kefu serve exited during start")
        httpx.post(f"{base}/api/v1/bot/messages", json={"text": "你好"}, timeout=120)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


async def flat_out(
    bases: list[str], clients: int, total: int, one: Request
) -> tuple[list[float], float]:
    """``total`` requests from ``clients`` clients, client i on instance i mod N."""
    latencies: list[float] = []
    left = itertools.count()

    async def client(base: str, seed: int) -> None:
        rng = random.Random(seed)
        state: dict[str, str] = {}
        async with httpx.AsyncClient(base_url=base, timeout=120) as http:
            while next(left) < total:
                started = time.perf_counter()
                await one(http, rng, state)
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client(bases[i % len(bases)], i) for i in range(clients)))
    return latencies, time.perf_counter() - started


def case_maker(token: str, customers: list[int]) -> Request:
    async def create(http: httpx.AsyncClient, rng: random.Random, _state: dict[str, str]) -> None:
        subject = rng.choice(SUBJECTS).format(a=rng.randint(1, 5000))
        response = await http.post(
            "/api/v1/cases",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "customer_id": rng.choice(customers),
                "category": rng.choice(CATEGORIES),
                "subject": subject,
                "description": subject,
            },
        )
        if response.status_code != 201:
            raise SystemExit(f"create failed: {response.status_code} {response.text[:200]}")

    return create


async def turn(http: httpx.AsyncClient, rng: random.Random, state: dict[str, str]) -> None:
    body = {"text": rng.choice(MESSAGES)}
    headers = {}
    if "conversation" in state:
        # a conversation answers only to its owner key, as the widget sends it
        body["conversation_id"] = state["conversation"]
        headers["X-Kefu-Conversation-Key"] = state["key"]
    response = await http.post("/api/v1/bot/messages", json=body, headers=headers)
    if response.status_code != 200:
        raise SystemExit(f"bot failed: {response.status_code} {response.text[:200]}")
    data = response.json()
    if data["handoff"]:  # handed to a person: the next turn starts another conversation
        state.pop("conversation", None)
    else:
        state["conversation"] = data["conversation_id"]
        if data["conversation_key"]:  # given once, when the conversation starts
            state["key"] = data["conversation_key"]


def line(title: str, latencies: list[float], wall: float, unit: str) -> str:
    p50, p99 = pct(latencies, 0.5) * 1000, pct(latencies, 0.99) * 1000
    return (
        f"  {title:<18} {len(latencies) / wall:8.1f} {unit}/s   p50 {p50:7.1f} ms"
        f"   p99 {p99:7.1f} ms   ({len(latencies)} in {wall:.1f} s)"
    )


def measure(bases: list[str], args: argparse.Namespace) -> list[str]:
    base = bases[0]
    token = httpx.post(
        f"{base}/api/v1/auth/token", json={"username": "agent", "password": "kefu-agent-demo"}
    ).json()["access_token"]
    customers = [
        c["id"]
        for c in httpx.get(
            f"{base}/api/v1/customers?limit=50", headers={"Authorization": f"Bearer {token}"}
        ).json()
    ]
    cases = asyncio.run(flat_out(bases, args.clients, args.cases, case_maker(token, customers)))
    turns = asyncio.run(flat_out(bases, args.clients, args.turns, turn))
    return [line("cases created", *cases, "cases"), line("assistant turns", *turns, "turns")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--turns", type=int, default=400)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    if args.cases < 1 or args.turns < 1 or args.clients < 2:
        parser.error("counts must be positive, and two clients at least (one per instance)")
    server = os.environ.get("KEFU_BENCH_POSTGRES_URL", "")
    if not server:
        print("scale: skipped: set KEFU_BENCH_POSTGRES_URL to a PostgreSQL server to run it")
        return
    with postgres_database(server, "scale") as url, redis_server() as redis_url:
        if not redis_url:
            print("scale: skipped: redis-server is not installed")
            return
        workdir = Path(tempfile.mkdtemp(prefix="kefu-bench-scale-"))
        env = {
            **os.environ,
            "KEFU_DATABASE_URL": url,
            "KEFU_REDIS_URL": redis_url,
            "KEFU_JOBS_BACKEND": "redis",
            "KEFU_JOBS_INLINE": "false",
            "KEFU_SMTP_ENABLED": "false",
            "KEFU_STORAGE_DIR": str(workdir / "attachments"),
            "KEFU_BOT_MESSAGES_PER_MINUTE": "1000000",
            "KEFU_LOG_LEVEL": "WARNING",
        }
        kefu = [sys.executable, "-m", "kefu"]
        subprocess.run([*kefu, "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run([*kefu, "demo", "seed"], env=env, check=True, capture_output=True)
        print(
            f"PostgreSQL and Redis, {args.clients} clients flat out, "
            f"{args.cases} cases then {args.turns} assistant turns per run"
        )
        with instance(env) as first:
            print("one instance")
            for row in measure([first], args):
                print(row)
            with instance(env) as second:
                print("two instances (clients alternate)")
                for row in measure([first, second], args):
                    print(row)


if __name__ == "__main__":
    main()
