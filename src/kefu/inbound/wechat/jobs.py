"""WeChat jobs: send a follower's queued messages after the commit that queued them, and
every two minutes pick up what a stop or an API outage left behind."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from kefu import jobs
from kefu.config import get_settings
from kefu.db import get_sessionmaker, utcnow
from kefu.inbound.wechat import outgoing
from kefu.inbound.wechat.api import SendRefused, get_api

log = logging.getLogger("kefu.jobs")
RESUME_AFTER = timedelta(minutes=2)


def dispatch(follower_ids: list[int]) -> None:
    """Queue sends; a failure here only delays them until ``resume_wechat``."""
    for follower_id in follower_ids:
        try:
            jobs.enqueue("send_wechat", follower_id)
        except Exception:
            log.exception("wechat sends of follower %s not queued; resume_wechat will", follower_id)


@jobs.job()
def send_wechat(follower_id: int) -> None:
    settings = get_settings()
    with get_sessionmaker()() as db:
        try:
            outgoing.send_queued(db, follower_id=follower_id, api=get_api(settings), now=utcnow())
        except SendRefused:
            return  # recorded on the message; resume_wechat tries again


def resume(now: datetime | None = None) -> list[int]:
    now = now or utcnow()
    with get_sessionmaker()() as db:
        followers = outgoing.waiting(db, older_than=RESUME_AFTER, now=now)
        db.commit()
    dispatch(followers)
    return followers


@jobs.periodic(minute="*/2")
def resume_wechat() -> None:
    if get_settings().wechat_token:
        resume()
