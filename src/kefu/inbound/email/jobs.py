"""Jobs for mail received: process a stored mail into its case, pick up what a stop left
behind, and fetch the IMAP mailbox when one is configured. Replies go out by
``kefu.channels.email.jobs``."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from kefu import jobs
from kefu.channels.email import jobs as email_jobs
from kefu.config import get_settings
from kefu.db import get_sessionmaker, utcnow
from kefu.inbound.email import intake

log = logging.getLogger("kefu.jobs")
RESUME_AFTER = timedelta(minutes=5)


@jobs.job(retries=2, retry_delay=30)
def process_inbound_mail(mail_id: int) -> None:
    settings = get_settings()
    with get_sessionmaker()() as db:
        try:
            result = intake.process(db, mail_id=mail_id, settings=settings, now=utcnow())
            db.commit()
        except Exception as exc:
            db.rollback()
            intake.fail(
                db, mail_id=mail_id, reason=f"processing error: {type(exc).__name__}", now=utcnow()
            )
            db.commit()
            log.exception("mail %s could not be processed; flagged for a person", mail_id)
            return
    email_jobs.dispatch(result.outgoing_ids)


def resume(sessions: sessionmaker[Session], queue: jobs.Queue, now: datetime) -> list[int]:
    """Queue the mails stored but never processed (a stop between commit and job)."""
    with sessions() as db:
        waiting = intake.waiting(db, older_than=RESUME_AFTER, now=now)
    for mail_id in waiting:
        queue.enqueue("process_inbound_mail", mail_id)
    return waiting


@jobs.periodic(minute="*/5")
def resume_inbound_mail() -> None:
    resume(get_sessionmaker(), jobs.get_queue(), utcnow())


@jobs.periodic(minute="*")
def fetch_imap() -> None:
    from kefu.inbound.email import imap

    settings = get_settings()
    if not settings.imap_host:
        return
    for mail_id in imap.fetch(settings, get_sessionmaker()):
        jobs.enqueue("process_inbound_mail", mail_id)
