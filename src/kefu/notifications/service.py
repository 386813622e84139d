"""Raising, listing and reading staff notifications.

Any domain raises one with ``notify`` inside its own transaction: the row is stored, and
after the commit the recipient's open console pages hear of it over the chat bus (their
staff channel, which ``/ws/console`` subscribes to in every process through Redis), with
their new unread count. Nothing is announced for a transaction that rolls back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kefu.chat import bus
from kefu.db import utcnow
from kefu.errors import InvalidInput
from kefu.i18n import normalise_lang, translate
from kefu.identity.models import StaffUser
from kefu.identity.permissions import has_permission
from kefu.notifications.models import StaffNotification

# offer: a chat or call offered to the agent; assignment: a case given to them; mention:
# named in a note; customer_reply: a customer wrote on their case; sla: a target about to
# be or already missed; escalation: a case escalated to them; approval: a request waiting
# for their decision; after_call: a call they took has ended, its summary to write
KINDS = (
    "offer",
    "assignment",
    "mention",
    "customer_reply",
    "sla",
    "escalation",
    "approval",
    "after_call",
)
PAGE = 30
MAX_IDS = 200


def payload(row: StaffNotification) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "body": row.body,
        "link": row.link,
        "created_at": row.created_at.isoformat(),
        "read": row.read_at is not None,
    }


def notify(
    db: Session,
    *,
    staff_id: int,
    kind: str,
    body: str,
    link: str | None = None,
    now: datetime | None = None,
) -> StaffNotification:
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    row = StaffNotification(
        staff_id=staff_id,
        kind=kind,
        body=body[:2000],
        link=link,
        created_at=now or utcnow(),
    )
    db.add(row)
    db.flush()
    bus.after_commit(
        db,
        bus.staff_channel(staff_id),
        {"type": "notification", "notification": payload(row), "unread": unread(db, staff_id)},
    )
    return row


def notify_translated(
    db: Session,
    staff: StaffUser,
    *,
    kind: str,
    key: str,
    link: str | None = None,
    now: datetime | None = None,
    **params: Any,
) -> StaffNotification:
    """``key`` in the staff member's own language."""
    lang = normalise_lang(staff.language) or "zh-CN"
    return notify(
        db,
        staff_id=staff.id,
        kind=kind,
        body=translate(key, lang, **params),
        link=link,
        now=now,
    )


def holders_of(db: Session, permission: str) -> list[StaffUser]:
    """Active staff whose role holds ``permission`` (the supervisors of an approval)."""
    return [
        user
        for user in db.scalars(select(StaffUser).where(StaffUser.is_active.is_(True)))
        if has_permission(user.role, permission)
    ]


def unread(db: Session, staff_id: int) -> int:
    return int(
        db.scalar(
            select(func.count())
            .select_from(StaffNotification)
            .where(StaffNotification.staff_id == staff_id, StaffNotification.read_at.is_(None))
        )
        or 0
    )


def recent(
    db: Session,
    staff_id: int,
    *,
    before_id: int | None = None,
    unread_only: bool = False,
    limit: int = PAGE,
) -> list[StaffNotification]:
    """Newest first, a page at a time (keyset on id: ``before_id`` is the last one seen)."""
    query = select(StaffNotification).where(StaffNotification.staff_id == staff_id)
    if before_id is not None:
        query = query.where(StaffNotification.id < before_id)
    if unread_only:
        query = query.where(StaffNotification.read_at.is_(None))
    return list(db.scalars(query.order_by(StaffNotification.id.desc()).limit(limit)))


def mark_read(
    db: Session,
    staff_id: int,
    *,
    ids: Sequence[int] | None = None,
    now: datetime | None = None,
) -> int:
    """Mark the staff member's own notifications read: ``ids``, or all of them when None.
    Someone else's ids are left alone. Their other pages hear the new count."""
    query = update(StaffNotification).where(
        StaffNotification.staff_id == staff_id, StaffNotification.read_at.is_(None)
    )
    if ids is not None:
        chosen = _ids(ids)
        if not chosen:
            return 0
        query = query.where(StaffNotification.id.in_(chosen))
    result = db.execute(query.values(read_at=now or utcnow()))
    changed = int(result.rowcount or 0)  # type: ignore[attr-defined]
    bus.after_commit(
        db,
        bus.staff_channel(staff_id),
        {
            "type": "notifications_read",
            "ids": list(ids) if ids is not None else None,
            "unread": unread(db, staff_id),
        },
    )
    return changed


def _ids(values: Iterable[Any]) -> list[int]:
    chosen = list(values)
    if len(chosen) > MAX_IDS:
        raise InvalidInput("too many notifications at once", field="ids", max=MAX_IDS)
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in chosen):
        raise InvalidInput("notification ids are positive integers", field="ids")
    return chosen
