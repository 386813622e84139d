"""Sliding-window rate limits kept in the database, so every app process counts alike.

Used where a flood costs money or leaks information: one-time codes sent per client
address (SMS pumping), public look-ups. Keys are stored as HMACs so the table does not
become a list of customers' addresses.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import (
    BigInteger,
    Index,
    Integer,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from kefu.db import Base, UtcDateTime, utcnow
from kefu.errors import TooManyRequests


class RateEvent(Base):
    __tablename__ = "rate_event"
    __table_args__ = (Index("ix_rate_event_bucket_key_at", "bucket", "key", "occurred_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)


# The statements are built once, with their values bound at each hit: building them took
# longer than running them. They name the table, not the mapped class, and run on the
# session's connection: no session holds rate events (every one is inserted here), so
# there is nothing to flush first or to find in the session, and the ORM's handling of
# each statement was half the cost of a hit. Old events are cleared on the way, skipping
# rows another request is clearing: many customers behind one address would otherwise
# queue on each other's row locks for the whole of their requests (PostgreSQL; SQLite has
# one writer anyway).
_TABLE = cast(Table, RateEvent.__table__)
_OF_KEY = (_TABLE.c.bucket == bindparam("bucket"), _TABLE.c.key == bindparam("key"))
_CLEAR_EXPIRED = delete(_TABLE).where(
    _TABLE.c.id.in_(
        select(_TABLE.c.id)
        .where(*_OF_KEY, _TABLE.c.occurred_at < bindparam("since"))
        .with_for_update(skip_locked=True)
    )
)
_IN_WINDOW = (*_OF_KEY, _TABLE.c.occurred_at >= bindparam("since"))
_COUNT = select(func.count()).where(*_IN_WINDOW).scalar_subquery()
_LIMIT = bindparam("limit", type_=Integer)
# the event is counted only if fewer than the limit are in the window: the count and the
# insert in one statement, which returns a row when it counted (not every driver's
# rowcount says)
_COUNT_ONE = (
    insert(_TABLE)
    .from_select(
        ["bucket", "key", "occurred_at"],
        select(
            bindparam("bucket", type_=_TABLE.c.bucket.type),
            bindparam("key", type_=_TABLE.c.key.type),
            bindparam("now", type_=_TABLE.c.occurred_at.type),
        ).where(_COUNT < _LIMIT),
    )
    .returning(_TABLE.c.id)
)
_OLDEST = select(func.min(_TABLE.c.occurred_at)).where(*_IN_WINDOW)
# A key's expired events are cleared at most once in this time (by the hits' own clock),
# not on every hit: the count and the oldest event look only inside the window, so events
# that left it answer nothing either way, and clearing them was a statement on every hit
# (one of an assistant turn's fifteen). They stay at most this much past the window.
CLEAR_EVERY = timedelta(seconds=5)
_CLEARED: dict[tuple[str, str], datetime] = {}  # when each key was last cleared, here
_MAX_CLEARED = 10_000


def _clear_now(bucket: str, key: str, now: datetime) -> bool:
    """Whether this hit clears its key's expired events: the first for the key in this
    process, or the first ``CLEAR_EVERY`` after the last clearing. A time before the last
    one (another database, a test's clock) clears too."""
    last = _CLEARED.get((bucket, key))
    if last is not None and last <= now < last + CLEAR_EVERY:
        return False
    if len(_CLEARED) >= _MAX_CLEARED:  # many addresses: start over rather than grow
        _CLEARED.clear()
    _CLEARED[(bucket, key)] = now
    return True


def _digest(secret: str, key: str) -> str:
    return hmac.new(secret.encode(), key.encode(), hashlib.sha256).hexdigest()


def hit(
    db: Session,
    *,
    bucket: str,
    key: str,
    limit: int,
    window_seconds: int,
    secret: str,
    now: datetime | None = None,
) -> None:
    """Count one event for ``key``; raise TooManyRequests once ``limit`` are in the window.

    A refused event is not counted, so a caller who waits is let through when the oldest
    event leaves the window.
    """
    now = now or utcnow()
    since = now - timedelta(seconds=window_seconds)
    digest = _digest(secret, key)
    names = {"bucket": bucket, "key": digest, "since": since}
    connection = db.connection()
    if _clear_now(bucket, digest, now):
        connection.execute(_CLEAR_EXPIRED, names)
    if connection.execute(_COUNT_ONE, {**names, "now": now, "limit": limit}).first():
        return
    oldest = connection.execute(_OLDEST, names).scalar()
    retry_after = window_seconds
    if oldest is not None:
        retry_after = max(1, int((oldest - since).total_seconds()) + 1)
    raise TooManyRequests("rate limit", retry_after=retry_after)
