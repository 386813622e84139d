"""Quality jobs on the scheduler: surveys that are due go out every minute."""

from __future__ import annotations

from datetime import datetime

from kefu import jobs
from kefu.channels.senders import build_senders
from kefu.config import get_settings
from kefu.db import get_sessionmaker, utcnow
from kefu.quality import surveys


def run_surveys(now: datetime | None = None) -> surveys.SweepReport:
    settings = get_settings()
    senders = jobs.adapter(build_senders)
    with get_sessionmaker()() as db:
        report = surveys.send_due(db, senders=senders, settings=settings, now=now or utcnow())
        db.commit()
    return report


@jobs.periodic(minute="*")
def survey_sweep() -> None:
    run_surveys()
