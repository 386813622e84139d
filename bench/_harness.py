"""What the API benchmarks share: a free port, percentiles, a throwaway PostgreSQL
database, a throwaway Redis, and ``kefu serve`` on a throwaway database with the demo data
loaded."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextmanager
def postgres_database(server: str, name: str) -> Iterator[str]:
    """A fresh database on the PostgreSQL server at ``server``, dropped afterwards; yields
    its URL, or "" when no server is given (SQLite then)."""
    if not server:
        yield ""
        return
    import psycopg
    from sqlalchemy import make_url

    admin = make_url(server)
    database = f"kefu_bench_{name}_{uuid.uuid4().hex[:8]}"
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    try:
        yield admin.set(database=database).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@contextmanager
def redis_server() -> Iterator[str]:
    """A Redis server of its own on a free loopback port, stopped afterwards; yields its URL,
    or "" when redis-server is not installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield ""
        return
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def demo_server(name: str, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """Serve Kefu with demo data on a fresh database; yields the base URL."""
    workdir = Path(tempfile.mkdtemp(prefix=f"kefu-bench-{name}-"))
    port = free_port()
    env = {
        **os.environ,
        "KEFU_DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
        "KEFU_JOBS_INLINE": "false",
        "KEFU_SMTP_ENABLED": "false",
        "KEFU_STORAGE_DIR": str(workdir / "attachments"),
        "KEFU_LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    kefu = [sys.executable, "-m", "kefu"]
    subprocess.run([*kefu, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([*kefu, "demo", "seed"], env=env, check=True, capture_output=True)
    server = subprocess.Popen(
        [*kefu, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)
