"""Search latency at scale: index N synthetic wallet-support cases, then time queries.

    .venv/bin/python bench/search.py                      # SQLite, 100,000 documents
    .venv/bin/python bench/search.py --documents 1000000
    KEFU_BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:55432/postgres \\
        .venv/bin/python bench/search.py                  # SQLite, then PostgreSQL

Each run builds a throwaway database (a file under /tmp, or a new PostgreSQL database that
is dropped afterwards), so it never touches a real one.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import Engine, make_url
from sqlalchemy.orm import Session

from kefu import migrate
from kefu.db import make_engine
from kefu.search import service as search_service
from kefu.search.schemas import SearchText

ZH_PROBLEMS = [
    "充值{amount}元没到账",
    "昨天{date}充值了{amount}元，银行已经扣款但是钱包余额没有变化",
    "提现到尾号{last4}的银行卡一直显示处理中",
    "提现失败，提示超出限额",
    "申请退款{amount}元已经{days}天了还没收到",
    "退款被拒绝，希望重新审核",
    "转账给朋友{amount}元对方说没收到",
    "账户被锁定了，登录不了",
    "忘记密码，收不到短信验证码",
    "有人冒充客服让我转账到安全账户",
    "支付失败但是钱被扣了{amount}元",
    "app闪退，更新以后打不开",
    "绑定银行卡提示信息有误",
    "收到异常登录提醒，是不是被盗号了",
    "交易记录里有一笔{amount}元不是我本人操作的",
    "优惠活动的红包没有发放",
]
ZH_DETAILS = [
    "请尽快处理，谢谢。",
    "已经打过客服电话了。",
    "订单号{order}。",
    "手机型号华为，系统版本{version}。",
    "这已经是第二次出现这个问题。",
    "麻烦帮我查一下是什么原因。",
    "我很着急，这笔钱要用来交房租。",
    "",
]
EN_PROBLEMS = [
    "Top-up of {amount} yuan on {date} not credited",
    "Withdrawal to card ending {last4} still pending",
    "Refund of {amount} not received after {days} days",
    "Transfer to a friend has not arrived",
    "Account locked after wrong passwords",
    "Payment failed but I was charged {amount}",
    "The app crashes after the latest update",
    "Someone claiming to be customer service asked for my code",
    "Cannot bind my bank card, it says the details are wrong",
    "Suspicious login alert, was my account stolen?",
]
EN_DETAILS = [
    "Please help.",
    "Order number {order}.",
    "This happened twice already.",
    "Phone model Pixel, Android {version}.",
    "",
]
ZH_QUERIES = [
    "提现",
    "退款",
    "到账",
    "充值没到账",
    "账户被锁定",
    "app闪退",
    "安全账户",
    "红包",
    "被盗",
]
EN_QUERIES = ["refund", "withdrawal pending", "app crashes", "account locked", "charged", "card"]


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        amount=f"{rng.randint(1, 50_000) / rng.choice((1, 100)):.2f}",
        date=f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日",
        last4=f"{rng.randint(0, 9999):04d}",
        days=rng.randint(2, 30),
        order=f"{rng.randint(10**15, 10**16 - 1)}",
        version=f"{rng.randint(8, 15)}.{rng.randint(0, 9)}",
    )


def synthetic_cases(count: int, seed: int = 7) -> Iterator[SearchText]:
    rng = random.Random(seed)
    for number in range(count):
        chinese = rng.random() < 0.8
        problems, details = (ZH_PROBLEMS, ZH_DETAILS) if chinese else (EN_PROBLEMS, EN_DETAILS)
        title = _fill(rng.choice(problems), rng)
        body = " ".join(_fill(rng.choice(details), rng) for _ in range(rng.randint(1, 3)))
        yield SearchText(
            kind="case",
            ref=f"KF-{number:08d}",
            title=title,
            body=f"{title}。{body}" if chinese else f"{title}. {body}",
            lang="zh-CN" if chinese else "en",
        )


def _sqlite_database() -> tuple[str, Callable[[], None]]:
    path = Path(tempfile.gettempdir()) / f"kefu-bench-search-{uuid.uuid4().hex[:8]}.db"

    def drop() -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    return f"sqlite:///{path}", drop


def _postgres_database(admin_url: str) -> tuple[str, Callable[[], None]]:
    import psycopg

    admin = make_url(admin_url)
    name = f"kefu_bench_{uuid.uuid4().hex[:10]}"
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return admin.set(database=name).render_as_string(hide_password=False), drop


def _load(engine: Engine, documents: int, batch: int) -> float:
    started = time.perf_counter()
    texts = synthetic_cases(documents)
    done = 0
    while done < documents:
        chunk = [text for _, text in zip(range(batch), texts, strict=False)]
        with Session(engine) as db:
            search_service.index_many(db, chunk)
            db.commit()
        done += len(chunk)
        if done % (batch * 20) == 0:
            print(f"  indexed {done:,} in {time.perf_counter() - started:.0f} s", flush=True)
    return time.perf_counter() - started


def _analyze(engine: Engine) -> None:
    """Fresh planner statistics, as autovacuum (PostgreSQL) or ANALYZE would give."""
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _measure(engine: Engine, queries: list[str], rounds: int) -> tuple[float, float, float]:
    latencies: list[float] = []
    hits = []
    with Session(engine) as db:
        for query in queries:
            search_service.search(db, kind="case", query=query)
        for _ in range(rounds):
            for query in queries:
                started = time.perf_counter()
                found = search_service.search(db, kind="case", query=query)
                latencies.append((time.perf_counter() - started) * 1000)
                hits.append(len(found))
        db.rollback()
    return (
        statistics.median(latencies),
        _percentile(latencies, 0.99),
        statistics.mean(hits),
    )


def run(name: str, url: str, documents: int, batch: int, rounds: int) -> None:
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        print(f"{name}: indexing {documents:,} documents")
        seconds = _load(engine, documents, batch)
        _analyze(engine)
        print(f"{name}: indexed in {seconds:.0f} s ({documents / seconds:,.0f} documents/s)")
        for label, queries in (("Chinese", ZH_QUERIES), ("English", EN_QUERIES)):
            p50, p99, hits = _measure(engine, queries, rounds)
            print(
                f"{name}: {label:7} queries  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms"
                f"  ({len(queries) * rounds} runs, {hits:.0f} hits each)"
            )
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    targets: list[tuple[str, Callable[[], tuple[str, Callable[[], None]]]]] = []
    if not args.skip_sqlite:
        targets.append(("sqlite", _sqlite_database))
    if postgres := os.environ.get("KEFU_BENCH_POSTGRES_URL"):
        targets.append(("postgresql", lambda: _postgres_database(postgres)))
    for name, create in targets:
        url, drop = create()
        try:
            run(name, url, args.documents, args.batch, args.rounds)
        finally:
            drop()


if __name__ == "__main__":
    main()
