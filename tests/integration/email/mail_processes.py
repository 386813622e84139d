"""Helpers for tests that run ``kefu`` in a child process against an isolated database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
KEFU = Path(sys.executable).with_name("kefu")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kefu_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    env.update(
        KEFU_ENV="test",
        KEFU_DATABASE_URL=database_url,
        KEFU_STORAGE_DIR=str(tmp_path / "attachments"),
        KEFU_JOBS_SQLITE_PATH=str(tmp_path / "jobs.db"),
        KEFU_EMAIL_FROM="support@kefu-wallet.com.cn",
        **extra,
    )
    return env


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen([str(KEFU), *args], env=env, stdout=handle, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        # a graceful stop of several workers took over 10 s on a loaded 2-core machine
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for(probe: Callable[[], T | None], *, seconds: float = 20, what: str = "") -> T:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
