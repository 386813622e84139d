"""Hotline jobs on the scheduler: prompts nobody used for a while are forgotten daily."""

from __future__ import annotations

from datetime import datetime

from kefu import jobs
from kefu.config import get_settings
from kefu.db import get_sessionmaker
from kefu.voice import prompts


def run_prune(now: datetime | None = None) -> int:
    settings = get_settings()
    with get_sessionmaker()() as db:
        removed = prompts.prune(db, settings, now)
        db.commit()
    return removed


@jobs.periodic(minute="17", hour="3")
def prune_voice_prompts() -> None:
    run_prune()
