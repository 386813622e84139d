"""Live chat under load, through the real server (``kefu serve``) on loopback.

``--chats`` conversations are open at once, each with a customer's widget socket and an
agent's console socket (agents hold ``--per-agent`` chats each, as a console watches all
its chats over one socket). Each side of each chat sends a message every ``--interval``
seconds on average (Poisson arrivals): the default 10 s makes 1,000 chats carry 200
messages a second in all, one every 5 s per chat; ``--interval 5`` doubles that. Both
sides also send the page's keep-alive ping every 25 s, as the widget and console do.

Reported: delivery (every message sent reaches the other side exactly once: must be
100 %), latency from the send on one side to the receipt on the other (one clock, both
sides live in this process) p50 / p99 / max, the servers' CPU time per message, and
memory (each server's resident size, and Redis's).

Modes: ``one`` — one process, in-memory bus, on SQLite (the embedded default); ``two`` —
two processes, the customers on one and the agents on the other so every message crosses
Redis, on PostgreSQL when ``KEFU_BENCH_POSTGRES_URL`` is set (the production set-up),
else on the same SQLite file. ``both`` (the default) runs one after the other.

    python bench/chat.py [--chats 1000] [--interval 10] [--seconds 60] [--mode both]
        [--database auto|sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import websockets
from _harness import free_port, pct, postgres_database, redis_server

KEFU = [sys.executable, "-m", "kefu"]
# like a browser: no protocol-level pings from the client; the page pings (``keepalive``)
CLIENT: dict[str, Any] = {"max_queue": None, "open_timeout": 60, "ping_interval": None}
PAGE_PING_SECONDS = 25.0
POSTGRES_URL = os.environ.get("KEFU_BENCH_POSTGRES_URL", "")
T = TypeVar("T")
PASSWORD = "bench-agent-password"  # noqa: S105 - throwaway agents in a temporary database


@dataclass
class Tally:
    sent: dict[str, float] = field(default_factory=dict)  # client_msg_id -> send time
    got: Counter[str] = field(default_factory=Counter)
    latency_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    measuring: bool = False

    def sending(self, msg_id: str) -> None:
        self.sent[msg_id] = time.perf_counter()

    def received(self, frame: dict[str, Any]) -> None:
        msg_id = frame.get("client_msg_id")
        if not isinstance(msg_id, str) or msg_id not in self.sent:
            return
        self.got[msg_id] += 1
        if self.got[msg_id] == 1:
            self.latency_ms.append((time.perf_counter() - self.sent[msg_id]) * 1000)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> tuple[int, int]:
    """Resident set size now and at its peak, from /proc."""
    now = peak = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            now = int(line.split()[1])
        elif line.startswith("VmHWM:"):
            peak = int(line.split()[1])
    return now, peak


def prepare(url: str, chats: int, per_agent: int) -> tuple[list[tuple[str, str]], dict]:
    """Migrate the database and add the agents and the open chats; returns the chats
    (public id, the owner key its widget holds) and each agent's session cookie with the
    chats it holds."""
    env = {**os.environ, "KEFU_DATABASE_URL": url}
    subprocess.run([*KEFU, "db", "upgrade"], env=env, check=True, capture_output=True)
    os.environ["KEFU_DATABASE_URL"] = url
    from kefu import models
    from kefu.chat import live
    from kefu.chat import service as chat
    from kefu.config import get_settings
    from kefu.db import get_engine, get_sessionmaker
    from kefu.identity import service as identity_service

    for cached in (get_settings, get_engine, get_sessionmaker):
        cached.cache_clear()
    models.import_all_models()

    agents: dict[str, list[int]] = {}
    found: list[tuple[str, str]] = []
    with get_sessionmaker()() as db:
        staff = []
        for n in range(-(-chats // per_agent)):
            user = identity_service.create_staff(
                db, username=f"bench{n}", password=PASSWORD, role="agent"
            )
            cookie = identity_service.issue_token(
                db, kind="session", ttl_seconds=6 * 3600, staff_user_id=user.id
            ).token
            staff.append((user, cookie))
            agents[cookie] = []
        for n in range(chats):
            user, cookie = staff[n // per_agent]
            conversation = chat.start(db, channel="web", language="zh-CN")
            key = chat.issue_owner_key(conversation)  # as the widget's start gets it
            conversation.status = "active"
            conversation.assigned_staff_id = user.id
            db.flush()
            # answered already (seq 1): the run measures chats in full swing, not the
            # one-off first reply (which also records a quality event)
            live.agent_says(db, conversation, user, "您好，请问有什么可以帮您？")
            found.append((conversation.public_id, key))
            agents[cookie].append(conversation.id)
            if n % 100 == 99:
                db.commit()
        db.commit()
    return found, agents


@contextlib.contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    """A fresh database: a SQLite file, or a new PostgreSQL database (dropped after)."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'chat.db'}"
        return
    with postgres_database(POSTGRES_URL, "chat") as url:
        yield url


def serve(
    url: str, workdir: Path, name: str, redis_url: str | None
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KEFU_")},
        "KEFU_DATABASE_URL": url,
        "KEFU_JOBS_INLINE": "false",
        "KEFU_SMTP_ENABLED": "false",
        "KEFU_STORAGE_DIR": str(workdir / "attachments"),
        "KEFU_LOG_LEVEL": "WARNING",
        **({"KEFU_REDIS_URL": redis_url} if redis_url else {}),
    }
    log = (workdir / f"{name}.log").open("wb")
    process = subprocess.Popen(
        [*KEFU, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"kefu serve ({name}) did not start; see {workdir / name}.log")


async def customer(
    base: str,
    public_id: str,
    key: str,
    tally: Tally,
    stop: asyncio.Event,
    interval: float,
    ready: list,
) -> None:
    ws_url = base.replace("http", "ws") + "/ws/chat"
    async with websockets.connect(ws_url, **CLIENT) as ws:
        hello = {"type": "hello", "conversation_id": public_id, "key": key, "after_seq": 1}
        await ws.send(json.dumps(hello))
        ready.append(1)

        async def read() -> None:
            async for raw in ws:
                frame = json.loads(raw)
                if frame.get("type") == "message" and frame.get("sender") == "agent":
                    tally.received(frame)
                elif frame.get("type") == "error":
                    tally.errors[frame.get("code", "?")] += 1

        reader = asyncio.create_task(read())
        pinger = asyncio.create_task(keepalive(ws, stop))
        n = 0
        while not stop.is_set():
            await asyncio.sleep(random.expovariate(1 / interval))
            if stop.is_set() or not tally.measuring:
                continue
            n += 1
            msg_id = f"c-{public_id}-{n}"
            tally.sending(msg_id)
            await ws.send(
                json.dumps({"type": "message", "text": f"客户消息 {n}", "client_msg_id": msg_id})
            )
        await stop_reading(reader)
        await stop_reading(pinger)


async def keepalive(ws: Any, stop: asyncio.Event) -> None:
    """What the widget and the console pages send: a ping frame every 25 s."""
    await asyncio.sleep(random.uniform(0, PAGE_PING_SECONDS))
    while not stop.is_set():
        await ws.send('{"type": "ping"}')
        await asyncio.sleep(PAGE_PING_SECONDS)


async def stop_reading(reader: asyncio.Task[None]) -> None:
    reader.cancel()
    with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
        await reader


async def agent(
    base: str,
    cookie: str,
    conversations: list[int],
    tally: Tally,
    stop: asyncio.Event,
    interval: float,
    ready: list,
) -> None:
    ws_url = base.replace("http", "ws") + "/ws/console"
    async with websockets.connect(
        ws_url, additional_headers={"Cookie": f"kefu_session={cookie}"}, **CLIENT
    ) as ws:
        for conversation_id in conversations:
            await ws.send(
                json.dumps({"type": "watch", "conversation_id": conversation_id, "after_seq": 1})
            )
        ready.append(1)

        async def read() -> None:
            async for raw in ws:
                frame = json.loads(raw)
                if frame.get("type") == "message" and frame.get("sender") == "customer":
                    tally.received(frame)
                elif frame.get("type") == "error":
                    tally.errors[frame.get("code", "?")] += 1

        async def talk(conversation_id: int) -> None:
            n = 0
            while not stop.is_set():
                await asyncio.sleep(random.expovariate(1 / interval))
                if stop.is_set() or not tally.measuring:
                    continue
                n += 1
                msg_id = f"a-{conversation_id}-{n}"
                tally.sending(msg_id)
                await ws.send(
                    json.dumps(
                        {
                            "type": "message",
                            "conversation_id": conversation_id,
                            "text": f"客服回复 {n}",
                            "client_msg_id": msg_id,
                        }
                    )
                )

        reader = asyncio.create_task(read())
        pinger = asyncio.create_task(keepalive(ws, stop))
        await asyncio.gather(*(talk(c) for c in conversations))
        await stop_reading(reader)
        await stop_reading(pinger)


async def drive(
    customer_base: str,
    agent_base: str,
    chats: list[tuple[str, str]],
    agents: dict[str, list[int]],
    args: argparse.Namespace,
    servers: list[subprocess.Popen[bytes]],
) -> dict[str, Any]:
    tally, stop, ready = Tally(), asyncio.Event(), []
    tasks = []
    for cookie, conversations in agents.items():
        tasks.append(
            asyncio.create_task(
                agent(agent_base, cookie, conversations, tally, stop, args.interval, ready)
            )
        )
    for n, (public_id, key) in enumerate(chats):
        tasks.append(
            asyncio.create_task(
                customer(customer_base, public_id, key, tally, stop, args.interval, ready)
            )
        )
        if n % 50 == 49:
            await asyncio.sleep(0.2)  # a ramp, not a stampede of handshakes
    expected = len(chats) + len(agents)
    deadline = time.monotonic() + 120
    while len(ready) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    if len(ready) < expected:
        raise SystemExit(f"only {len(ready)} of {expected} sockets connected")
    await asyncio.sleep(3)  # backlogs read, sweepers started
    tally.measuring = True
    print(f"   measuring for {args.seconds:g} s", file=sys.stderr, flush=True)
    started = time.perf_counter()
    cpu_before = [cpu_seconds(s.pid) for s in servers] + [cpu_seconds(os.getpid())]
    await asyncio.sleep(args.seconds)
    tally.measuring = False
    elapsed = time.perf_counter() - started
    cpu = [
        after - before
        for before, after in zip(
            cpu_before,
            [cpu_seconds(s.pid) for s in servers] + [cpu_seconds(os.getpid())],
            strict=True,
        )
    ]
    sent = len(tally.sent)
    drain_until = time.monotonic() + 30
    while len(tally.got) < sent and time.monotonic() < drain_until:
        await asyncio.sleep(0.2)
    memory = [rss_kib(s.pid) for s in servers]
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    delivered = len(tally.got)
    duplicates = sum(c - 1 for c in tally.got.values() if c > 1)
    return {
        "sent": sent,
        "rate": sent / elapsed,
        "delivered": delivered,
        "duplicates": duplicates,
        "latency": tally.latency_ms,
        "errors": dict(tally.errors),
        "memory": memory,
        "cpu": cpu,
        "load": os.getloadavg()[0],
    }


def report(title: str, result: dict[str, Any], redis_kib: int | None = None) -> None:
    latency = result["latency"] or [0.0]
    sent = result["sent"] or 1
    print(f"-- {title}")
    print(
        f"   messages sent {result['sent']} ({result['rate']:.0f}/s), delivered "
        f"{result['delivered']} = {100 * result['delivered'] / sent:.2f} %, "
        f"duplicates {result['duplicates']}, errors {result['errors'] or 'none'}"
    )
    print(
        f"   send → other side: p50 {pct(latency, 0.5):.1f} ms, p99 {pct(latency, 0.99):.1f} ms, "
        f"max {max(latency):.1f} ms"
    )
    for n, (now, peak) in enumerate(result["memory"]):
        print(
            f"   server {n + 1} memory: {now / 1024:.0f} MiB resident, peak {peak / 1024:.0f} MiB"
        )
    sent = result["sent"] or 1
    *servers, client = result["cpu"]
    print(
        f"   CPU: servers {' + '.join(f'{c:.1f}' for c in servers)} s "
        f"({1000 * sum(servers) / sent:.2f} ms a message), this client {client:.1f} s; "
        f"machine load average {result['load']:.1f} on {os.cpu_count()} CPUs"
    )
    if redis_kib is not None:
        print(f"   redis memory: {redis_kib / 1024:.1f} MiB")


def run(mode: str, kind: str, args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix=f"kefu-bench-chat-{mode}-"))
    servers: list[subprocess.Popen[bytes]] = []
    try:
        with (
            database(kind, workdir) as url,
            redis_server() if mode == "two" else contextlib.nullcontext("") as redis_url,
        ):
            if mode == "two" and not redis_url:
                print("-- two processes with Redis: skipped (redis-server not installed)")
                return
            chats, agents = prepare(url, args.chats, args.per_agent)
            first, first_base = serve(url, workdir, "server1", redis_url)
            servers.append(first)
            agent_base = first_base
            if mode == "two":
                second, agent_base = serve(url, workdir, "server2", redis_url)
                servers.append(second)
            result = loop_runner()(drive(first_base, agent_base, chats, agents, args, servers))
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
            redis_kib = None
            if redis_url:
                import redis as redis_client

                info = redis_client.Redis.from_url(redis_url).info("memory")
                redis_kib = int(info["used_memory"]) // 1024
            where = "SQLite" if kind == "sqlite" else "PostgreSQL"
            how = (
                "one process, in-memory bus"
                if mode == "one"
                else "two processes (customers on one, agents on the other) through Redis"
            )
            report(
                f"{args.chats} chats, each side every {args.interval:g} s, for "
                f"{args.seconds:g} s: {how}, {where}",
                result,
                redis_kib,
            )
    finally:
        for server in servers:
            if server.poll() is None:
                server.terminate()
                server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)


def loop_runner() -> Callable[[Coroutine[Any, Any, T]], T]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--per-agent", type=int, default=20, help="chats one agent holds")
    parser.add_argument(
        "--interval", type=float, default=10.0, help="seconds between messages, per side"
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to measure")
    parser.add_argument("--mode", choices=("one", "two", "both"), default="both")
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgres", "auto"),
        default="auto",
        help="auto: one process on SQLite; two on PostgreSQL when KEFU_BENCH_POSTGRES_URL "
        "is set (else SQLite)",
    )
    args = parser.parse_args()
    for mode in ("one", "two") if args.mode == "both" else (args.mode,):
        kind = args.database
        if kind == "auto":
            kind = "postgres" if mode == "two" and POSTGRES_URL else "sqlite"
        if kind == "postgres" and not POSTGRES_URL:
            raise SystemExit("--database postgres needs KEFU_BENCH_POSTGRES_URL")
        run(mode, kind, args)


if __name__ == "__main__":
    main()
