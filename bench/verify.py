"""Anti-fraud benchmark: look-ups per second against a registry of 1M entries and 1M scam
reports, and scam-signal detection per message.

The registry and report tables are filled with bulk inserts (the figure is printed too),
then a mix of look-ups is timed: official numbers and sites in other spellings, confirmed
scams, look-alike domains, reported and unknown values. "check" is the verdict alone;
"verify" also counts the look-up and commits, as the public API does per request. SQLite
runs in a temporary file; PostgreSQL runs in a temporary database created from
KEFU_BENCH_POSTGRES_URL and is skipped with a note when that is unset.
KEFU_BENCH_VERIFY_ENTRIES changes the table sizes (default 1000000).

    .venv/bin/python bench/verify.py
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine, Table, make_url
from sqlalchemy.orm import Session

from kefu import migrate
from kefu.antifraud import lookups, registry, service, values
from kefu.antifraud.models import RegistryEntry, ScamReport
from kefu.db import make_engine, utcnow

ENTRIES = int(os.environ.get("KEFU_BENCH_VERIFY_ENTRIES", "1000000"))
CHUNK = 20_000
CHECKS = 4_000
VERIFIES = 2_000
MESSAGES = 20_000


def _scam_value(n: int) -> tuple[str, str, str]:
    """(kind, shown value, normal form) of the n-th generated scam entry."""
    match n % 4:
        case 0 | 1:
            number = f"+86170{n:08d}"
            return "phone", f"170 {n:08d}", number
        case 2:
            host = f"refund-{n}.scam-{n % 997}.top"
            return "domain", host, host
        case _:
            account = f"kf_service_{n}"
            return "account", account, account


def _report_value(n: int) -> tuple[str, str]:
    return ("phone", f"+86171{n:08d}") if n % 2 else ("domain", f"pay-{n}.suspicious-{n % 991}.cc")


def _rows(count: int, make: Callable[[int], dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, count, CHUNK):
        yield [make(n) for n in range(start, min(count, start + CHUNK))]


def _bulk_insert(engine: Engine, table: Table, batches: Iterator[list[dict[str, Any]]]) -> None:
    """COPY on PostgreSQL; on SQLite the driver's executemany with the columns' own bind
    processors applied, so the stored form is the one the models read back."""
    names = [column.name for column in table.columns if column.name != "id"]
    raw = engine.raw_connection()
    try:
        driver: Any = raw.driver_connection
        if engine.dialect.name == "postgresql":
            statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
            with driver.cursor() as cursor, cursor.copy(statement) as copy:
                for batch in batches:
                    for row in batch:
                        copy.write_row([row.get(name) for name in names])
            driver.commit()
            return
        processors = [table.c[name].type.bind_processor(engine.dialect) for name in names]
        marks = ", ".join("?" * len(names))
        # the names come from the table's own metadata, never from input
        sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})"  # noqa: S608
        for batch in batches:
            driver.execute("BEGIN")
            driver.executemany(
                sql,
                [
                    [
                        p(row.get(n)) if p else row.get(n)
                        for n, p in zip(names, processors, strict=True)
                    ]
                    for row in batch
                ],
            )
            driver.execute("COMMIT")
    finally:
        raw.close()


def _fill(engine: Engine) -> None:
    migrate.upgrade(engine)
    now = utcnow()
    with Session(engine) as db:
        registry.seed_demo(db)
        db.commit()

    common = {
        "label_zh": "诈骗", "label_en": "Scam", "notes_zh": "", "notes_en": "", "cost_zh": "",
        "cost_en": "", "hours_zh": "", "hours_en": "", "public": False, "position": 100,
        "source": "bench", "reported_on": date(2026, 11, 1), "active": True, "version": 1,
        "created_at": now, "updated_at": now, "toll_free": None,
    }  # fmt: skip
    roles = {"phone": "hotline", "domain": "website", "account": "account"}

    def entry(n: int) -> dict[str, Any]:
        kind, shown, normal = _scam_value(n)
        return {
            **common, "kind": kind, "role": roles[kind], "status": "scam", "value": shown,
            "normalised": normal,
        }  # fmt: skip

    def report(n: int) -> dict[str, Any]:
        kind, normal = _report_value(n)
        return {
            "kind": kind, "normalised": normal, "value": normal, "status": "pending",
            "report_count": 1 + n % 5, "first_reported_at": now, "last_reported_at": now,
        }  # fmt: skip

    for model, make in ((RegistryEntry, entry), (ScamReport, report)):
        began = time.perf_counter()
        _bulk_insert(engine, cast(Table, model.__table__), _rows(ENTRIES, make))
        elapsed = time.perf_counter() - began
        rate = ENTRIES / elapsed
        print(
            f"  bulk insert {model.__tablename__}: {ENTRIES:,} rows, {elapsed:.1f} s, {rate:,.0f}/s"
        )


def _queries(rng: random.Random) -> list[str]:
    official = [
        "95099",
        "+86 400-800-9595",
        "４００８００９５９５",
        "https://www.kefu-wallet.com.cn/login",
        "support@kefu-wallet.com.cn",
        "@KefuWallet",
    ]
    lookalike = [
        "kefu-wallet.com.cn.example.net",
        "kefu-wa11et.com.cn",
        "xn--kfu-wallet-ksi.com.cn",
        "kefuwallet-refund.top",
    ]
    unknown = ["13800138000", "example.com", "zhangsan", "someone@example.org"]
    found: list[str] = []
    for index in range(CHECKS):
        n = rng.randrange(ENTRIES)
        match index % 5:
            case 0:
                found.append(rng.choice(official))
            case 1:
                found.append(_scam_value(n)[1])
            case 2:
                found.append(rng.choice(lookalike))
            case 3:
                found.append(_report_value(n)[1])
            case _:
                found.append(rng.choice(unknown))
    return found  # fmt: skip


def _per_second(count: int, seconds: float) -> str:
    return f"{count / seconds:8,.0f}/s"


def bench(name: str, engine: Engine) -> None:
    print(f"{name}: {ENTRIES:,} registry entries + {ENTRIES:,} reports")
    _fill(engine)
    queries = _queries(random.Random(7))
    verdicts: dict[str, int] = {}
    with Session(engine) as db:
        began = time.perf_counter()
        for value in queries:
            result = service.check(db, values.parse(value), lang="zh-CN")
            verdicts[result.verdict] = verdicts.get(result.verdict, 0) + 1
        elapsed = time.perf_counter() - began
    print(
        f"  check (verdict only):      {_per_second(len(queries), elapsed)}   verdicts {verdicts}"
    )
    latencies = []
    today = utcnow()
    with Session(engine) as db:
        began = time.perf_counter()
        for index, value in enumerate(queries[:VERIFIES]):
            start = time.perf_counter()
            service.verify(
                db,
                value,
                lang="en",
                client_key=f"client-{index % 300}",
                now=today - timedelta(days=index % 7),
            )
            db.commit()
            latencies.append(time.perf_counter() - start)
        elapsed = time.perf_counter() - began
    p50 = statistics.median(latencies) * 1000
    p99 = statistics.quantiles(latencies, n=100)[98] * 1000
    rate = _per_second(VERIFIES, elapsed)
    print(f"  verify (counted, commit):  {rate}   p50 {p50:.2f} ms   p99 {p99:.2f} ms")
    with Session(engine) as db:
        began = time.perf_counter()
        top = lookups.trends(db, today=today.date(), days=7, limit=50)
        took = (time.perf_counter() - began) * 1000
        print(f"  look-up figures (7 days, top 50): {took:.1f} ms, {len(top)} values")


def bench_signals() -> None:
    texts = [
        "您好，我昨天在你们app充值了500元一直没到账，订单号T2026112300000001，麻烦帮我查一下，谢谢。",
        "客服让我把验证码告诉他，还让我下载向日葵远程，说退款需要先交手续费",
        "Hi, I topped up 200 yuan yesterday and it has not arrived. Can you check please?",
        "someone asked for my verification code and told me to move my money to a safe account",
        "我想修改密码",
    ]
    began = time.perf_counter()
    for index in range(MESSAGES):
        service.detect_signals(texts[index % len(texts)])
    elapsed = time.perf_counter() - began
    each = elapsed / MESSAGES * 1e6
    print(f"scam signals: {each:.1f} µs per message ({MESSAGES / elapsed:,.0f} messages/s)")


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
    bench_signals()
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
