"""Case creation as a customer's history grows: ``POST /api/v1/cases`` for a customer with
no earlier cases and for one with ``--history`` earlier cases, in alternating rounds on the
same server, and how long the work deferred after the commit (text search, quality
figures) takes to show.

The deferred rows are done oldest first, so a case's lag includes every row waiting when it
was created: the first case after the load rounds waits for the rounds' backlog too. Each
lag is printed with the ``deferred_work`` rows waiting (not yet done) just before its case,
read from the server's database.

Starts ``kefu serve`` on a throwaway SQLite database with the demo data, gives one customer
``--history`` cases through the API, then runs ``--rounds`` pairs of rounds of
``--seconds`` each with ``--clients`` concurrent clients. Goal: the same rate (within
10 %) for both customers, and deferred work visible within 1 s.

    python bench/case_history.py [--history 500] [--clients 16] [--seconds 4] [--rounds 2]

(``--history 10000`` for the issue's figure; seeding takes a few minutes then.)
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from _harness import demo_server, pct
from sqlalchemy import Engine, func, select

from kefu.db import make_engine
from kefu.deferred import DeferredWork


def body(customer: int, n: int) -> dict[str, object]:
    if n % 2:
        subject = f"Top-up failed order {n}"
        text = "I topped up 500 CNY yesterday; the wallet balance did not change."
    else:
        subject = f"充值失败 订单 {n}"
        text = "我昨天充值了500元，钱已经扣了但是钱包余额没有变化，请尽快处理。"
    return {
        "customer_id": customer,
        "category": "recharge_not_credited",
        "subject": subject,
        "description": text,
    }


async def load(
    client: httpx.AsyncClient, customer: int, *, clients: int, seconds: float, start: int
) -> tuple[int, list[float]]:
    """Cases created by ``clients`` loops for ``seconds``: count and latencies."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    counter = iter(range(start, start + 10**9))

    async def one_client() -> None:
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            response = await client.post("/api/v1/cases", json=body(customer, next(counter)))
            if response.status_code != 201:
                raise SystemExit(f"create failed: {response.status_code} {response.text[:200]}")
            latencies.append(time.perf_counter() - began)

    await asyncio.gather(*(one_client() for _ in range(clients)))
    return len(latencies), [x * 1000 for x in latencies] or [0.0]


async def seed(client: httpx.AsyncClient, customer: int, count: int) -> None:
    pending = iter(range(count))

    async def worker() -> None:
        for n in pending:
            response = await client.post("/api/v1/cases", json=body(customer, n))
            if response.status_code != 201:
                raise SystemExit(f"seeding failed: {response.status_code} {response.text[:200]}")

    await asyncio.gather(*(worker() for _ in range(8)))


def rows_waiting(database: Engine) -> tuple[int, int]:
    """``deferred_work`` rows not yet done (a row is deleted with its work) and, of them,
    those that failed and wait for a retry."""
    with database.connect() as conn:
        waiting, failed = conn.execute(
            select(func.count(), func.count().filter(DeferredWork.attempts > 0))
        ).one()
    return int(waiting), int(failed)


async def deferred_lag(client: httpx.AsyncClient, customer: int) -> float:
    """Seconds from a case's 201 to finding it by a word only it has."""
    word = f"lag{time.time_ns()}"
    created = await client.post(
        "/api/v1/cases",
        json={**body(customer, 0), "subject": f"bench {word}", "description": word},
    )
    began = time.perf_counter()
    reference = created.json()["reference"]
    while time.perf_counter() - began < 30:
        found = await client.get("/api/v1/cases", params={"text": word})
        if [case["reference"] for case in found.json()] == [reference]:
            return time.perf_counter() - began
        await asyncio.sleep(0.02)
    raise SystemExit("the new case was not searchable within 30 s")


async def run(base: str, database: Engine, args: argparse.Namespace) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as anonymous:
        token = (
            await anonymous.post(
                "/api/v1/auth/token", json={"username": "agent", "password": "kefu-agent-demo"}
            )
        ).json()["access_token"]
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=base, headers=headers, timeout=60, limits=limits
    ) as client:
        customers = [c["id"] for c in (await client.get("/api/v1/customers?limit=3")).json()]
        fresh, veteran = customers[0], customers[1]
        began = time.perf_counter()
        await seed(client, veteran, args.history)
        print(
            f"customer {veteran}: {args.history} earlier cases seeded through the API "
            f"in {time.perf_counter() - began:.0f} s"
        )
        await asyncio.sleep(2)  # let the deferred work of the seeding drain
        rates: dict[str, list[float]] = {"new": [], "history": []}
        latencies: dict[str, list[float]] = {"new": [], "history": []}
        start = 10**6
        for _ in range(args.rounds):
            for label, customer in (("new", fresh), ("history", veteran)):
                count, times = await load(
                    client, customer, clients=args.clients, seconds=args.seconds, start=start
                )
                start += count
                rates[label].append(count / args.seconds)
                latencies[label] += times
        for label in ("new", "history"):
            who = "no earlier cases" if label == "new" else f"{args.history} earlier cases"
            times = latencies[label]
            print(
                f"  {who:>20}: {statistics.median(rates[label]):7.1f} cases/s "
                f"(rounds {', '.join(f'{r:.1f}' for r in rates[label])})  "
                f"p50 {pct(times, 0.5):6.1f} ms  p99 {pct(times, 0.99):6.1f} ms"
            )
        ratio = statistics.median(rates["history"]) / statistics.median(rates["new"])
        print(f"  rate with history / without: {ratio:.2f} (goal 0.90-1.10)")
        lags: list[float] = []
        behind: list[tuple[int, int]] = []
        for _ in range(5):
            behind.append(rows_waiting(database))
            lags.append(await deferred_lag(client, fresh))
        print(
            "deferred work (search, quality) visible after the 201, the rows waiting before "
            f"its case included: median {statistics.median(lags) * 1000:.0f} ms, "
            f"max {max(lags) * 1000:.0f} ms (goal < 1 s)"
        )
        for n, (lag, (waiting, failed)) in enumerate(zip(lags, behind, strict=True), 1):
            retry = f" ({failed} failed, waiting for a retry)" if failed else ""
            print(f"  case {n}: {lag * 1000:6.0f} ms after {waiting} rows waiting{retry}")
        if behind[0][0]:
            print(
                "  the first lag includes the rows the load rounds left behind: a backlog, "
                "not the lag of a case on an idle server"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--history", type=int, default=500)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if min(args.history, args.clients, args.rounds) < 1 or args.seconds <= 0:
        parser.error("counts and seconds must be positive")
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='kefu-bench-case-history-')) / 'bench.db'}"
    with demo_server("case-history", {"KEFU_DATABASE_URL": url}) as base:
        database = make_engine(url)  # to count the rows waiting; WAL: reading blocks no write
        try:
            asyncio.run(run(base, database, args))
        finally:
            database.dispose()


if __name__ == "__main__":
    main()
