"""Replays of a signed WeChat request. The signature covers only the query string (token,
timestamp, nonce), not the body: in plaintext mode anyone who saw one signed URL could post
another body with it for as long as the timestamp is fresh. Each (timestamp, nonce) is kept
with its body's hash for that window; the same URL again with the same body is WeChat's own
retry (answered as before, the message id dedupes it), with another body it is refused."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.inbound.wechat.models import WeChatNonce
from kefu.inbound.wechat.protocol import MAX_SKEW_SECONDS, SignatureInvalid, Signed

# kept a little longer than a timestamp can be off either way
KEEP = timedelta(seconds=2 * MAX_SKEW_SECONDS + 60)


def remember(db: Session, signed: Signed, body: bytes, *, now: datetime) -> None:
    """Record this request's nonce; raise ``SignatureInvalid`` for a replay."""
    digest = hashlib.sha256(body).hexdigest()
    key = (signed.timestamp[:12], signed.nonce[:64])
    seen = db.scalar(
        select(WeChatNonce.body_sha256).where(
            WeChatNonce.timestamp == key[0], WeChatNonce.nonce == key[1]
        )
    )
    if seen is None:
        try:
            with db.begin_nested():
                db.add(WeChatNonce(timestamp=key[0], nonce=key[1], body_sha256=digest, seen_at=now))
        except IntegrityError:  # the same nonce from another process at the same moment
            seen = db.scalar(
                select(WeChatNonce.body_sha256).where(
                    WeChatNonce.timestamp == key[0], WeChatNonce.nonce == key[1]
                )
            )
    if seen is not None and seen != digest:
        raise SignatureInvalid("signed request replayed with another body")
    db.execute(delete(WeChatNonce).where(WeChatNonce.seen_at < now - KEEP))
