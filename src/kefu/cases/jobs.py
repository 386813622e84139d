"""Case jobs on the scheduler: the SLA scan every minute, follow-ups every
``KEFU_FOLLOW_UP_EVERY_MINUTES`` (ten).

``run_*`` take ``now`` so tests drive the clock; the periodic jobs call them with none.
"""

from __future__ import annotations

from datetime import datetime

from kefu import jobs
from kefu.cases import escalation, followup
from kefu.channels.senders import build_senders
from kefu.config import get_settings
from kefu.db import get_sessionmaker, utcnow


def run_sla_check(now: datetime | None = None) -> escalation.ScanReport:
    settings = get_settings()
    with get_sessionmaker()() as db:
        report = escalation.run_scan(db, settings=settings, now=now or utcnow())
        db.commit()
    return report


def run_follow_up(now: datetime | None = None) -> followup.SweepReport:
    """Owner reminders, progress messages and closing of long-resolved cases."""
    settings = get_settings()
    now = now or utcnow()
    senders = jobs.adapter(build_senders)
    with get_sessionmaker()() as db:
        report = followup.SweepReport(
            reminded=followup.remind_owners(db, settings=settings, now=now),
            progress_sent=followup.progress_updates(
                db, settings=settings, senders=senders, now=now
            ),
            closed=followup.close_resolved(db, settings=settings, now=now),
        )
        db.commit()
    return report


@jobs.periodic(minute="*")
def sla_check() -> None:
    run_sla_check()


@jobs.periodic(minute=lambda settings: f"*/{settings.follow_up_every_minutes}")
def follow_up() -> None:
    run_follow_up()
