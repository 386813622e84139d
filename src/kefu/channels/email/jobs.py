"""E-mail jobs: process a received mail, send a queued one, pick up what a stop left behind,
and fetch the IMAP mailbox when one is configured."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from kefu import jobs
from kefu.channels.email import intake, outgoing
from kefu.channels.senders import build_senders
from kefu.config import get_settings
from kefu.db import get_sessionmaker, utcnow

log = logging.getLogger("kefu.jobs")
RESUME_AFTER = timedelta(minutes=5)


def dispatch(email_message_ids: list[int]) -> None:
    """Queue sends after the commit that created them; a failure here only delays them."""
    for email_message_id in email_message_ids:
        try:
            jobs.enqueue("send_email", email_message_id)
        except Exception:
            log.exception("mail %s not queued; resume_mail will queue it", email_message_id)


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
    dispatch(result.outgoing_ids)


@jobs.job(
    retries=outgoing.MAX_ATTEMPTS - 1, retry_delay=lambda settings: settings.mail_retry_seconds
)
def send_email(email_message_id: int) -> None:
    senders = jobs.adapter(build_senders)
    with get_sessionmaker()() as db:
        try:
            outgoing.send(db, email_message_id=email_message_id, senders=senders, now=utcnow())
        finally:
            # a failed try is recorded (attempts, last error) before huey retries it
            db.commit()


def resume(now: datetime | None = None) -> tuple[list[int], list[int]]:
    now = now or utcnow()
    with get_sessionmaker()() as db:
        inbound = intake.waiting(db, older_than=RESUME_AFTER, now=now)
        outbound = outgoing.waiting(db, older_than=RESUME_AFTER, now=now)
    for mail_id in inbound:
        jobs.enqueue("process_inbound_mail", mail_id)
    dispatch(outbound)
    return inbound, outbound


@jobs.periodic(minute="*/5")
def resume_mail() -> None:
    resume()


@jobs.periodic(minute="*")
def fetch_imap() -> None:
    from kefu.channels.email import imap

    settings = get_settings()
    if not settings.imap_host:
        return
    for mail_id in imap.fetch(settings):
        jobs.enqueue("process_inbound_mail", mail_id)
