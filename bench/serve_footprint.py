"""A web process's start and memory: how long ``kefu serve`` takes to answer, in wall
and CPU seconds (CPU time says what the machine's load hides), the first time (the
assistant's model is trained and stored) and the next (loaded, its fingerprint checked);
then its resident memory after a burst of assistant turns.

Goals: a new process answers within 3 s; at most 250 MB resident after the chat load.

    python bench/serve_footprint.py [--turns 400] [--clients 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _harness import free_port, pct

TEXTS = [
    "我昨天充值了500块还没到账",
    "How do I reset my payment password?",
    "付款失败了但是钱被扣了",
]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int) -> tuple[float, float]:
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return (int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024)


def start(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str, float, float]:
    port = free_port()
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "kefu", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.02)
        if process.poll() is not None:
            raise SystemExit("kefu serve exited during start")
    return process, base, time.perf_counter() - began, cpu_seconds(process.pid)


async def turns(base: str, count: int, clients: int) -> list[float]:
    latencies: list[float] = []
    numbers = iter(range(count))
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:

        async def one() -> None:
            for n in numbers:
                began = time.perf_counter()
                response = await client.post(
                    "/api/v1/bot/messages", json={"text": TEXTS[n % len(TEXTS)]}
                )
                if response.status_code != 200:
                    raise SystemExit(f"turn failed: {response.status_code} {response.text[:200]}")
                latencies.append((time.perf_counter() - began) * 1000)

        await asyncio.gather(*(one() for _ in range(clients)))
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=400)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    if args.turns < 1 or args.clients < 1:
        parser.error("counts must be positive")
    workdir = Path(tempfile.mkdtemp(prefix="kefu-bench-footprint-"))
    env = {
        **os.environ,
        "KEFU_DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
        "KEFU_NLU_CACHE_DIR": str(workdir / "nlu"),
        "KEFU_JOBS_INLINE": "false",
        "KEFU_SMTP_ENABLED": "false",
        "KEFU_STORAGE_DIR": str(workdir / "attachments"),
        "KEFU_LOG_LEVEL": "WARNING",
        "KEFU_BOT_MESSAGES_PER_MINUTE": "1000000",
    }
    subprocess.run(
        [sys.executable, "-m", "kefu", "db", "upgrade"], env=env, check=True, capture_output=True
    )
    for label in ("first start (trains and stores the model)", "next start (loads it)"):
        process, base, wall, cpu = start(env)
        print(f"{label}: answers after {wall:5.2f} s wall, {cpu:5.2f} s CPU")
        if label.startswith("next"):
            latencies = asyncio.run(turns(base, args.turns, args.clients))
            rss, peak = memory_mb(process.pid)
            print(
                f"after {args.turns} assistant turns ({args.clients} clients, p50 "
                f"{pct(latencies, 0.5):.0f} ms, p99 {pct(latencies, 0.99):.0f} ms): "
                f"{rss:.0f} MB resident, peak {peak:.0f} MB (goal <= 250 MB)"
            )
        process.terminate()
        process.wait(timeout=20)


if __name__ == "__main__":
    main()
