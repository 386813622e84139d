"""Wallet ledger benchmark: transfers per second and p99 latency, one writer and eight.

Each transfer is one idempotent operation and one commit, as a request would be. SQLite
runs in a temporary file; PostgreSQL runs in a temporary database created from
KEFU_BENCH_POSTGRES_URL and skipped with a note when that is unset.

    .venv/bin/python bench/ledger.py
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, make_url
from sqlalchemy.orm import Session

from kefu import audit, migrate
from kefu.db import make_engine
from kefu.errors import KefuError
from kefu.wallet import accounts, check, flows
from kefu.wallet.idempotency import ActionContext

ACCOUNTS = 200
SINGLE_TRANSFERS = 1_500
WRITERS = 8
PER_WRITER = 250
ACTOR = audit.Actor("bench", "system")


def _ctx() -> ActionContext:
    return ActionContext(key=uuid.uuid4().hex, actor=ACTOR)


def _prepare(engine: Engine) -> list[str]:
    migrate.upgrade(engine)
    ids = [f"B{n:05d}" for n in range(ACCOUNTS)]
    with Session(engine) as db:
        for account_id in ids:
            accounts.open_account(db, account_id=account_id, name="bench", phone=None, email=None)
            card = accounts.bind_card(
                db, account_id=account_id, bank="bench", card_type="debit", last4="0000"
            )
            top_up = flows.start_top_up(
                db,
                account_id=account_id,
                card_id=card.id,
                amount_fen=10_000_00,
                currency="CNY",
                ctx=_ctx(),
            )
            flows.settle(db, movement_id=top_up.id, outcome="credited", ctx=_ctx())
        db.commit()
    return ids


def _writer(engine: Engine, ids: list[str], count: int, seed: int, out: list[float]) -> None:
    rng = random.Random(seed)
    for _ in range(count):
        source, target = rng.sample(ids, 2)
        began = time.perf_counter()
        with Session(engine) as db:
            try:
                flows.transfer(
                    db,
                    account_id=source,
                    to_account_id=target,
                    amount_fen=rng.randrange(1, 100),
                    currency="CNY",
                    ctx=_ctx(),
                )
                db.commit()
            except KefuError:
                db.rollback()
        out.append(time.perf_counter() - began)


def _run(engine: Engine, ids: list[str], writers: int, per_writer: int) -> tuple[float, float]:
    latencies: list[list[float]] = [[] for _ in range(writers)]
    threads = [
        threading.Thread(target=_writer, args=(engine, ids, per_writer, n, latencies[n]))
        for n in range(writers)
    ]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    flat = [value for chunk in latencies for value in chunk]
    p99 = statistics.quantiles(flat, n=100)[98]
    return len(flat) / elapsed, p99 * 1000


def bench(name: str, engine: Engine) -> None:
    ids = _prepare(engine)
    for writers, count in ((1, SINGLE_TRANSFERS), (WRITERS, PER_WRITER)):
        tps, p99 = _run(engine, ids, writers, count)
        print(f"{name:<10} {writers} writer(s): {tps:8.0f} transfers/s   p99 {p99:7.1f} ms")
    with Session(engine) as db:
        report = check.run(db)
    print(
        f"{name:<10} check: {'consistent' if report.ok else report.breaches[:3]}, "
        f"{report.counts['entries']} entries"
    )


def _with_postgres(url: str, body: Callable[[Engine], None]) -> None:
    import psycopg

    admin = make_url(url)
    name = f"kefu_bench_{uuid.uuid4().hex[:8]}"
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(admin.set(database=name).render_as_string(hide_password=False))
    try:
        body(engine)
    finally:
        engine.dispose()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        bench("SQLite", engine)
        engine.dispose()
    url = os.environ.get("KEFU_BENCH_POSTGRES_URL")
    if not url:
        print("PostgreSQL skipped: set KEFU_BENCH_POSTGRES_URL to run it")
        return
    _with_postgres(url, lambda engine: bench("PostgreSQL", engine))


if __name__ == "__main__":
    main()
