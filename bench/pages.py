"""The help center and the agent's customer view under load.

Starts ``kefu serve`` on a throwaway SQLite database (demo data loaded) and measures:
the help center home page with many visitors at once; the FAQ search the home page calls
as a customer types ("充" → "充值" → "充值没到账", one request per keystroke); and the
console's customer view (wallet, history, cases, verifications, audit) for a signed-in
agent. Target: p50 under 50 ms for each at 20 concurrent clients; p95 is then mostly
queueing in the one server process (latency ≈ clients / throughput).

    python bench/pages.py [--clients 20] [--requests 25]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time

import httpx
from _harness import demo_server, pct

TYPED = ["充值没到账", "账户被锁定", "转账没到", "refund", "forgot password", "客服电话"]


def _line(name: str, latencies: list[float], wall: float) -> str:
    return (
        f"{name:34} {len(latencies):5} req  {len(latencies) / wall:7.1f} req/s"
        f"   p50 {pct(latencies, 0.5) * 1000:6.1f} ms   p95 {pct(latencies, 0.95) * 1000:6.1f} ms"
    )


async def _visitors(base: str, clients: int, requests: int) -> tuple[list[float], float]:
    latencies: list[float] = []

    async def visitor() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            for _ in range(requests):
                started = time.perf_counter()
                response = await http.get("/help")
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise SystemExit(f"/help failed: {response.status_code}")

    started = time.perf_counter()
    await asyncio.gather(*(visitor() for _ in range(clients)))
    return latencies, time.perf_counter() - started


async def _typists(base: str, clients: int, requests: int) -> tuple[list[float], float]:
    latencies: list[float] = []

    async def typist(offset: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            done = 0
            while done < requests:
                phrase = TYPED[(offset + done) % len(TYPED)]
                lang = "en" if phrase.isascii() else "zh-CN"
                for end in range(1, len(phrase) + 1):
                    started = time.perf_counter()
                    response = await http.get(
                        "/api/v1/faq", params={"q": phrase[:end], "lang": lang}
                    )
                    latencies.append(time.perf_counter() - started)
                    if response.status_code != 200:
                        raise SystemExit(f"search failed: {response.status_code}")
                done += 1

    started = time.perf_counter()
    await asyncio.gather(*(typist(n) for n in range(clients)))
    return latencies, time.perf_counter() - started


def _customer_view(base: str, requests: int) -> tuple[list[float], float]:
    with httpx.Client(base_url=base, timeout=60) as http:
        form = http.get("/console/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token, "no sign-in form"
        signed_in = http.post(
            "/console/login",
            data={"username": "agent", "password": "kefu-agent-demo", "csrf_token": token[1]},
        )
        if signed_in.status_code not in (200, 303):
            raise SystemExit(f"sign-in failed: {signed_in.status_code}")
        latencies: list[float] = []
        started = time.perf_counter()
        for n in range(requests):
            before = time.perf_counter()
            response = http.get(f"/console/customers/{1 + n % 30}")
            latencies.append(time.perf_counter() - before)
            if response.status_code != 200:
                raise SystemExit(f"customer view failed: {response.status_code}")
        return latencies, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=25)
    args = parser.parse_args()
    if args.clients < 1 or args.requests < 1:
        parser.error("counts must be positive")
    with demo_server("pages") as base:
        httpx.get(f"{base}/help", timeout=60)  # warm up templates and the search index
        home = asyncio.run(_visitors(base, args.clients, args.requests))
        search = asyncio.run(_typists(base, args.clients, max(1, args.requests // 5)))
        view = _customer_view(base, args.requests * 2)
    print(f"help center and customer view, {args.clients} concurrent clients")
    print(_line("GET /help", *home))
    print(_line("GET /api/v1/faq?q= (as you type)", *search))
    print(_line("GET /console/customers/{id}", *view))


if __name__ == "__main__":
    main()
