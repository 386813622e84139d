"""Chat messages for WeChat followers, sent by the customer-service API in the order written.

``queue`` runs in the transaction that stored the message (an agent's reply, a notice that
an agent joined or the chat ended) and only records it; once that transaction commits, a
job sends the follower's queued messages (``send_queued``). A message the API could not take
stays queued and is tried again; one WeChat refuses for good is ``failed`` with the reason.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session, SessionTransaction

from kefu.chat.models import ChatMessage, Conversation
from kefu.db import utcnow
from kefu.inbound.wechat.api import SendRefused, WeChatApi
from kefu.inbound.wechat.models import WeChatFollower, WeChatOutgoing
from kefu.inbound.wechat.protocol import fit

log = logging.getLogger("kefu.channels")

MAX_ATTEMPTS = 15  # tried every two minutes: half an hour of outage
_PENDING = "kefu.wechat.pending"
_READY = "kefu.wechat.ready"


def follower_of(db: Session, conversation: Conversation) -> WeChatFollower | None:
    return db.scalars(
        select(WeChatFollower).where(WeChatFollower.conversation_id == conversation.id)
    ).first()


def queue(
    db: Session, conversation: Conversation, message: ChatMessage, *, now: datetime | None = None
) -> WeChatOutgoing | None:
    """Keep ``message`` for the follower whose conversation it is; None when no follower
    is (the conversation did not come from WeChat, or the follower left)."""
    follower = follower_of(db, conversation)
    if follower is None or not follower.subscribed:
        return None
    now = now or utcnow()
    row = WeChatOutgoing(
        follower_id=follower.id,
        chat_message_id=message.id,
        status="queued",
        attempts=0,
        created_at=now,
        updated_at=now,
    )
    db.add(row)
    db.flush()
    db.info.setdefault(_PENDING, set()).add(follower.id)
    return row


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    """Only the outermost commit counts: a released savepoint's transaction may still roll
    back. A job that finds nothing queued (a rolled-back savepoint's row) does nothing."""
    if session.get_nested_transaction() is not None:
        return
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.info[_READY] = pending


@event.listens_for(Session, "after_transaction_end")
def _send(session: Session, transaction: SessionTransaction) -> None:
    """Queue the sends once the transaction has given its connection back, so a job that
    runs at once (or a pool of one connection) finds one free."""
    if transaction.parent is not None:
        return
    ready = session.info.pop(_READY, None)
    if ready:
        from kefu.inbound.wechat import jobs

        jobs.dispatch(sorted(ready))


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous: SessionTransaction) -> None:
    if not previous.nested:
        session.info.pop(_PENDING, None)


def send_queued(db: Session, *, follower_id: int, api: WeChatApi, now: datetime) -> int:
    """Send the follower's queued messages, oldest first, committing after each; stops at
    the first the API could not take, so the follower never gets them out of order.
    Returns how many were sent; raises ``SendRefused`` for a try to be repeated."""
    follower = db.get(WeChatFollower, follower_id)
    if follower is None:
        return 0
    sent = 0
    while True:
        row_id = db.scalar(
            select(WeChatOutgoing.id)
            .where(WeChatOutgoing.follower_id == follower_id, WeChatOutgoing.status == "queued")
            .order_by(WeChatOutgoing.id)
            .limit(1)
        )
        if row_id is None:
            return sent
        claimed = db.execute(
            update(WeChatOutgoing)
            .where(WeChatOutgoing.id == row_id, WeChatOutgoing.status == "queued")
            .values(status="sending", updated_at=now)
        )
        db.commit()
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return sent  # another worker has this follower's messages
        row = db.get(WeChatOutgoing, row_id)
        message = db.get(ChatMessage, row.chat_message_id) if row is not None else None
        assert row is not None and message is not None
        row.attempts += 1
        try:
            api.send_text(follower.openid, fit(message.text))
        except SendRefused as exc:
            final = exc.permanent or row.attempts >= MAX_ATTEMPTS
            row.status = "failed" if final else "queued"
            row.last_error = str(exc)[:200]
            row.updated_at = now
            db.commit()
            log.warning(
                "wechat message %s to follower %s not sent (try %s): %s",
                row.id,
                follower_id,
                row.attempts,
                row.last_error,
            )
            if final:
                continue  # the next message may still go through
            raise
        row.status, row.sent_at, row.updated_at, row.last_error = "sent", now, now, None
        db.commit()
        sent += 1


def waiting(db: Session, *, older_than: timedelta, now: datetime) -> list[int]:
    """Followers with queued messages nobody picked up (a stop between commit and job, or
    a try that failed), and with messages a stopped worker left ``sending``."""
    stale = now - older_than
    db.execute(
        update(WeChatOutgoing)
        .where(WeChatOutgoing.status == "sending", WeChatOutgoing.updated_at <= stale)
        .values(status="queued", updated_at=now)
    )
    return list(
        db.scalars(
            select(WeChatOutgoing.follower_id)
            .where(WeChatOutgoing.status == "queued", WeChatOutgoing.updated_at <= stale)
            .distinct()
            .order_by(WeChatOutgoing.follower_id)
        )
    )
