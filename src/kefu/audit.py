"""Append-only audit trail with a hash chain.

Every account or money action writes one row: who (actor and role), what (action and a
before/after summary), on whom (customer) and on which case, when, and from which request.
Each row stores the hash of the previous row, so a changed, removed or inserted row breaks
the chain and ``kefu audit verify`` reports where. Database triggers refuse UPDATE and
DELETE as a first line; the chain catches whatever gets past them.

A row is linked into the chain when its transaction commits, not when it is recorded:
``record`` keeps the event with the session, and the session's commit takes the chain's
lock, reads the last hash, links the transaction's events in the order they were recorded
and inserts them, then commits. Only the lock holder inserts audit rows, so the order of
ids is the order of the chain, and the lock is held from linking to the commit instead of
from the first audited change to the commit (on PostgreSQL that span had written every
audited transaction one after another, whatever the number of instances). A rolled-back
transaction or savepoint takes its events with it and leaves no gap.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, select, text
from sqlalchemy.event import listens_for
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

from kefu.context import request_id_var
from kefu.db import Base, UtcDateTime, utcnow

GENESIS_HASH = "0" * 64
# session.info key: the events recorded in the session's transaction (``_Pending``)
_PENDING = "kefu.audit.pending"


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    actor_role: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(80), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    case_reference: Mapped[str | None] = mapped_column(String(40), index=True)
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


@dataclass(frozen=True)
class Actor:
    """Who did something: ``staff:<username>``, ``customer:<id>``, ``bot`` or ``system``."""

    name: str
    role: str

    @classmethod
    def system(cls) -> Actor:
        return cls(name="system", role="system")


def _canonical(value: dict[str, Any] | None) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _row_hash(event: AuditEvent) -> str:
    payload = json.dumps(
        [
            event.created_at.isoformat(),
            event.actor,
            event.actor_role,
            event.action,
            event.customer_id,
            event.case_reference,
            event.before,
            event.after,
            event.request_id,
            event.prev_hash,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


# built once: building a statement cost more than running it, and every change records
_LAST_HASH = select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
# the lock and then the last hash, in one round trip (migration 0093)
_PG_LOCKED_LAST_HASH = text("SELECT audit_chain_last_hash()")


def _locked_last_hash(db: Session) -> str | None:
    """The chain's last hash, the chain locked until the transaction ends. SQLite already
    serialises writers (BEGIN IMMEDIATE); PostgreSQL needs a lock so two transactions
    cannot both append after the same row."""
    if db.get_bind().dialect.name == "postgresql":
        last: str | None = db.scalar(_PG_LOCKED_LAST_HASH)
        return last
    return db.scalar(_LAST_HASH)


@dataclass(slots=True)
class _Pending:
    """An event of the session's transaction, the (innermost) transaction it was recorded
    in, and the one it was inserted in (None until it is)."""

    event: AuditEvent
    recorded_in: SessionTransaction | None
    linked_in: SessionTransaction | None = None


def _innermost(db: Session) -> SessionTransaction | None:
    return db.get_nested_transaction() or db.get_transaction()


def record(
    db: Session,
    *,
    actor: Actor,
    action: str,
    customer_id: int | None = None,
    case_reference: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record one audit row in the caller's transaction (the caller commits).

    The row is written and linked into the chain when the transaction commits; until then
    the returned event has no id, ``prev_hash`` or ``hash``. ``list_events`` and
    ``verify_chain`` link a transaction's pending rows first, so it reads its own."""
    event = AuditEvent(
        created_at=utcnow(),
        actor=actor.name,
        actor_role=actor.role,
        action=action,
        customer_id=customer_id,
        case_reference=case_reference,
        before=_canonical(before),
        after=_canonical(after),
        request_id=request_id_var.get(),
    )
    if db.get_transaction() is None:
        db.connection()  # begins the transaction, whose end forgets what it did not commit
    pending: list[_Pending] = db.info.setdefault(_PENDING, [])
    pending.append(_Pending(event, _innermost(db)))
    return event


def link_pending(db: Session) -> None:
    """Append the events recorded in this transaction to the chain now; the chain stays
    locked until the transaction ends (on PostgreSQL; SQLite's writer lock is held anyway).
    Commit does this on its own; call it only to read the rows back before committing."""
    pending: list[_Pending] = [p for p in db.info.get(_PENDING, ()) if p.linked_in is None]
    if not pending:
        return
    # the caller's own changes go first, before the lock, so that it covers the least
    db.flush()
    prev = _locked_last_hash(db) or GENESIS_HASH
    linked_in = _innermost(db)
    for entry in pending:
        entry.event.prev_hash = prev
        entry.event.hash = prev = _row_hash(entry.event)
        entry.linked_in = linked_in
        db.add(entry.event)
    db.flush()


@listens_for(Session, "before_commit")
def _link_on_commit(db: Session) -> None:
    # a savepoint's release fires this too; its events are linked with the outer commit
    if _PENDING in db.info and not db.in_nested_transaction():
        link_pending(db)


@listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(db: Session, previous: SessionTransaction) -> None:
    pending: list[_Pending] | None = db.info.get(_PENDING)
    if not pending:
        return
    # what was undone is the nearest savepoint or the whole transaction (a failed flush
    # rolls back through the flush's own inner transaction)
    undone = previous
    while not undone.nested and undone.parent is not None:
        undone = undone.parent
    if undone.parent is None:
        del db.info[_PENDING]
        return
    kept = [p for p in pending if not _within(p.recorded_in, undone)]
    for entry in kept:
        if _within(entry.linked_in, undone):
            # recorded before the savepoint and inserted in it (read back there): its row
            # went with the savepoint, so it is linked again, after whatever is last now
            entry.linked_in = None
            entry.event.id = None  # type: ignore[assignment]
    db.info[_PENDING] = kept


@listens_for(Session, "after_transaction_end")
def _forget_on_end(db: Session, transaction: SessionTransaction) -> None:
    # committed, rolled back or closed: nothing is pending for the next transaction
    if transaction.parent is None:
        db.info.pop(_PENDING, None)


def _within(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


@dataclass(frozen=True)
class ChainReport:
    rows: int
    first_break_id: int | None
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.first_break_id is None


def _iter_events(db: Session, batch: int = 5000) -> Iterator[AuditEvent]:
    last_id = 0
    while True:
        rows = db.scalars(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        db.expunge_all()


def verify_chain(db: Session) -> ChainReport:
    """Walk the whole trail and report the first row whose link or content was changed."""
    link_pending(db)
    expected_prev = GENESIS_HASH
    count = 0
    for event in _iter_events(db):
        count += 1
        if event.prev_hash != expected_prev:
            return ChainReport(count, event.id, "previous-hash link broken (row removed or added)")
        if _row_hash(event) != event.hash:
            return ChainReport(count, event.id, "row content does not match its hash")
        expected_prev = event.hash
    return ChainReport(count, None, None)


def list_events(
    db: Session,
    *,
    customer_id: int | None = None,
    case_reference: str | None = None,
    action: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[AuditEvent]:
    link_pending(db)
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if customer_id is not None:
        query = query.where(AuditEvent.customer_id == customer_id)
    if case_reference is not None:
        query = query.where(AuditEvent.case_reference == case_reference)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return list(db.scalars(query))
