"""Append-only audit trail with a hash chain.

Every account or money action writes one row: who (actor and role), what (action and a
before/after summary), on whom (customer) and on which case, when, and from which request.
Each row stores the hash of the previous row, so a changed, removed or inserted row breaks
the chain and ``kefu audit verify`` reports where. Database triggers refuse UPDATE and
DELETE as a first line; the chain catches whatever gets past them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from kefu.context import request_id_var
from kefu.db import Base, UtcDateTime, utcnow

GENESIS_HASH = "0" * 64
# Any constant works; it only has to be the same in every process that appends.
_PG_AUDIT_LOCK_KEY = 0x6B656675


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


def _lock_chain(db: Session) -> None:
    # SQLite already serialises writers (BEGIN IMMEDIATE); PostgreSQL needs a lock so two
    # transactions cannot both append after the same row.
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_AUDIT_LOCK_KEY})


# built once: building a statement cost more than running it, and every change records
_LAST_HASH = select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)


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
    """Append one audit row in the caller's transaction (the caller commits)."""
    _lock_chain(db)
    # every row recorded before is flushed already (below), so the caller's other pending
    # changes need not be flushed for this query: they go with this row's flush
    with db.no_autoflush:
        last = db.scalar(_LAST_HASH)
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
        prev_hash=last or GENESIS_HASH,
    )
    event.hash = _row_hash(event)
    db.add(event)
    db.flush()
    return event


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
