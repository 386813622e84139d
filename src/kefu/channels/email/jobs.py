"""E-mail jobs: send a queued mail, and pick up what a stop left behind. Mail received is
processed by ``kefu.inbound.email.jobs``."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from kefu import jobs
from kefu.channels.email import outgoing
from kefu.channels.senders import build_senders
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


def resume(now: datetime | None = None) -> list[int]:
    """Queue the mails a stop or a failed queuing left waiting."""
    now = now or utcnow()
    with get_sessionmaker()() as db:
        outbound = outgoing.waiting(db, older_than=RESUME_AFTER, now=now)
    dispatch(outbound)
    return outbound


@jobs.periodic(minute="*/5")
def resume_mail() -> None:
    resume()
