"""Liveness, readiness, and the adapter health the admin's console home shows: each adapter
the settings chose, whether it answers, and its backlog.

``/healthz`` says the process answers, on the event loop and touching nothing else, so a
load balancer's frequent probes cost next to nothing and never queue behind requests for
a database connection. ``/readyz`` says the database answers too: route traffic to an
instance only while it does.

The kernel checks what it owns (database, Redis, the job queue); the channel domains add
their own through their service modules (``kefu.channels.health``, ``kefu.inbound.health``,
``kefu.voice.health``).
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kefu.config import Settings
from kefu.db import DbSession
from kefu.deps import LangDep
from kefu.i18n import translate

router = APIRouter(tags=["health"])

# How long a check waits for a server before it reports it down: the admin's home page
# waits for every check, so a dead relay must not hold it for the OS's connect timeout.
PROBE_TIMEOUT_SECONDS = 0.5
RECENT = timedelta(hours=24)


@dataclass(frozen=True)
class AdapterHealth:
    """One adapter as the admin sees it. ``state``: ``ok``, ``warn`` (works, but something
    is failing or backing up), ``down`` (does not answer) or ``off`` (not configured or
    not used). ``facts`` are figures named by catalogue keys ``health.fact.<name>``."""

    adapter: str
    state: str
    backend: str
    facts: dict[str, int | str] = field(default_factory=dict)


def reachable(host: str, port: int, *, timeout: float = PROBE_TIMEOUT_SECONDS) -> bool:
    """Whether a TCP server accepts a connection: enough to tell a relay that is down."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def database(db: Session) -> AdapterHealth:
    dialect = db.get_bind().dialect.name
    started = time.perf_counter()
    try:
        db.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return AdapterHealth("database", "down", dialect)
    millis = max(1, round((time.perf_counter() - started) * 1000))
    return AdapterHealth("database", "ok", dialect, {"latency_ms": millis})


def redis(settings: Settings, *, in_use: bool) -> AdapterHealth:
    """``in_use``: whether the job queue or the chat bus was set to Redis (the caller asks
    each of them, so the kernel needs to know neither)."""
    import redis as redis_client

    if not in_use:
        return AdapterHealth("redis", "off", "—")
    client = redis_client.Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=PROBE_TIMEOUT_SECONDS,
        socket_timeout=PROBE_TIMEOUT_SECONDS,
    )
    try:
        started = time.perf_counter()
        client.ping()
        millis = max(1, round((time.perf_counter() - started) * 1000))
    except (redis_client.RedisError, OSError):
        return AdapterHealth("redis", "down", "redis")
    finally:
        client.close()
    return AdapterHealth("redis", "ok", "redis", {"latency_ms": millis})


def job_queue(db: Session, settings: Settings, *, now: datetime) -> AdapterHealth:
    from kefu import jobs

    try:
        queue = jobs.get_queue()
        pending = int(queue.huey.pending_count())
        scheduled = int(queue.huey.scheduled_count())
    except Exception:  # any storage error means the queue cannot be read
        return AdapterHealth("jobs", "down", settings.jobs_backend)
    failures = jobs.failures_since(db, now - RECENT)
    facts: dict[str, int | str] = {
        "pending": pending,
        "scheduled": scheduled,
        "failed_24h": len(failures),
    }
    if failures:
        facts["last_failure"] = failures[0].job_name
    return AdapterHealth("jobs", "warn" if failures else "ok", settings.jobs_backend, facts)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
def readyz(db: DbSession, lang: LangDep) -> dict[str, str] | JSONResponse:
    if database(db).state == "down":
        return JSONResponse(
            {
                "error": {
                    "code": "database_unavailable",
                    "message": translate("error.database", lang),
                }
            },
            status_code=503,
        )
    return {"status": "ok"}
