"""Routing on the scheduler: every minute, lapsed offers move on and abandoned waits end.

Serving processes also sweep every few seconds while they hold chat sockets
(``kefu.chat.ws.ensure_sweeper``); this job covers the time no socket is open, for
instance calls queued by the hotline while no console is connected to this process.
"""

from __future__ import annotations

from datetime import datetime

from kefu import jobs
from kefu.chat import live
from kefu.config import get_settings
from kefu.db import get_sessionmaker


def run_routing_sweep(now: datetime | None = None) -> tuple[int, int]:
    settings = get_settings()
    with get_sessionmaker()() as db:
        swept = live.sweep(db, settings=settings, now=now)
        db.commit()
    return swept


@jobs.periodic(minute="*")
def routing_sweep() -> None:
    run_routing_sweep()
