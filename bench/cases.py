"""Cases through the real API: creation rate and text-search latency.

Starts ``kefu serve`` on a throwaway SQLite database (demo data loaded), creates cases with
several concurrent HTTP clients, then times ``GET /api/v1/cases?text=`` in Chinese and
English. Index-level search figures at 100k and 1M documents are in bench/search.py.

    python bench/cases.py [--cases 2000] [--clients 8] [--queries 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from _harness import demo_server, pct

SUBJECTS_ZH = [
    "充值{a}元没到账",
    "提现到银行卡三天了还没到",
    "付款失败但是扣钱了 {a}元",
    "退款被拒绝了，要求重新审核",
    "账户被锁定无法登录",
    "有一笔{a}元的交易不是我本人操作",
    "转账给朋友{a}元对方没收到",
    "投诉客服态度差，问题一直没解决",
]
SUBJECTS_EN = [
    "Top-up of {a} not credited",
    "Withdrawal to bank card still not arrived",
    "Payment failed but I was charged {a}",
    "Refund rejected, please review again",
    "Account locked after wrong passwords",
    "Unauthorised transaction of {a}",
]
QUERIES = {
    "zh": ["到账", "退款", "提现", "锁定", "转账 没收到"],
    "en": ["refund", "credited", "locked"],
}
CATEGORIES = ["recharge_not_credited", "transfer_not_arrived", "payment_failed", "refund"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    if args.cases < 1 or args.clients < 1 or args.queries < 1:
        parser.error("counts must be positive")

    with demo_server("cases") as base:
        token = httpx.post(
            f"{base}/api/v1/auth/token", json={"username": "agent", "password": "kefu-agent-demo"}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        customers = [
            c["id"] for c in httpx.get(f"{base}/api/v1/customers?limit=50", headers=headers).json()
        ]
        rng = random.Random(7)

        def create(i: int) -> float:
            zh = i % 5 != 0
            subject = rng.choice(SUBJECTS_ZH if zh else SUBJECTS_EN).format(a=rng.randint(1, 5000))
            body = {
                "customer_id": rng.choice(customers),
                "category": rng.choice(CATEGORIES),
                "subject": subject,
                "description": subject,
                "language": "zh-CN" if zh else "en",
            }
            with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                started = time.perf_counter()
                response = client.post("/api/v1/cases", json=body)
                elapsed = time.perf_counter() - started
            if response.status_code != 201:
                raise SystemExit(f"create failed: {response.status_code} {response.text[:200]}")
            return elapsed

        started = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            latencies = list(pool.map(create, range(args.cases)))
        wall = time.perf_counter() - started
        print(f"cases created through the API: {args.cases} with {args.clients} clients")
        print(
            f"  {args.cases / wall:8.1f} cases/s   p50 {pct(latencies, 0.5) * 1000:6.1f} ms"
            f"   p99 {pct(latencies, 0.99) * 1000:6.1f} ms"
        )

        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            for lang, queries in QUERIES.items():
                timings = []
                for i in range(args.queries):
                    started = time.perf_counter()
                    response = client.get(
                        "/api/v1/cases", params={"text": queries[i % len(queries)]}
                    )
                    timings.append(time.perf_counter() - started)
                    if response.status_code != 200:
                        raise SystemExit(f"search failed: {response.text[:200]}")
                print(
                    f"search via API ({lang}) over {args.cases} cases: p50 "
                    f"{statistics.median(timings) * 1000:6.1f} ms"
                    f"   p99 {pct(timings, 0.99) * 1000:6.1f} ms"
                )


if __name__ == "__main__":
    main()
