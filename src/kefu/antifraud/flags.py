"""Scam flags: the signals seen in a customer's message, put on the conversation and its
case so a specialist follows them up and every agent who opens either sees them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kefu import audit
from kefu.antifraud.models import ScamFlag
from kefu.antifraud.signals import ScamSignal
from kefu.cases import service as cases_service
from kefu.db import utcnow
from kefu.errors import Conflict, InvalidInput, NotFound
from kefu.sensitive import mask

EXCERPT = 300


def flag(
    db: Session,
    signals: Sequence[ScamSignal],
    *,
    channel: str,
    actor: audit.Actor,
    text: str = "",
    customer_id: int | None = None,
    conversation_id: int | None = None,
    case_reference: str | None = None,
    now: datetime | None = None,
) -> ScamFlag:
    """Raise (or add to) the open flag of a conversation or case.

    A conversation has one open flag: later signals add their kinds to it instead of
    piling up rows. With a case, an internal timeline entry names the signals, so the flag
    is on the case wherever agents read it.
    """
    if not signals:
        raise InvalidInput("no scam signal to flag", field="signals")
    if conversation_id is None and case_reference is None and customer_id is None:
        raise InvalidInput("a flag needs a conversation, case or customer", field="conversation")
    now = now or utcnow()
    kinds = sorted({signal.kind for signal in signals})
    excerpt = mask(text.strip())[:EXCERPT]
    existing = None
    if conversation_id is not None:
        existing = db.scalar(
            select(ScamFlag).where(
                ScamFlag.conversation_id == conversation_id, ScamFlag.status == "open"
            )
        )
    reference = None
    if case_reference:
        case = cases_service.get_case(db, case_reference)
        reference = case.reference
        customer_id = customer_id or case.customer_id
    if existing is not None:
        existing.kinds = sorted(set(existing.kinds) | set(kinds))
        existing.case_reference = existing.case_reference or reference
        row = existing
    else:
        row = ScamFlag(
            customer_id=customer_id,
            conversation_id=conversation_id,
            case_reference=reference,
            channel=channel[:16],
            kinds=kinds,
            excerpt=excerpt,
            status="open",
            created_at=now,
        )
        db.add(row)
    db.flush()
    if row.case_reference is not None:
        cases_service.record_action(
            db,
            cases_service.get_case(db, row.case_reference),
            action="scam_flag",
            detail={"signals": kinds, "flag": row.id},
            actor=actor,
            now=now,
        )
    return row


def flags_for(
    db: Session,
    *,
    conversation_id: int | None = None,
    case_reference: str | None = None,
    customer_id: int | None = None,
) -> list[ScamFlag]:
    """Flags agents should see on a conversation, a case or a customer, newest first."""
    conditions = []
    if conversation_id is not None:
        conditions.append(ScamFlag.conversation_id == conversation_id)
    if case_reference:
        conditions.append(ScamFlag.case_reference == case_reference)
    if customer_id is not None:
        conditions.append(ScamFlag.customer_id == customer_id)
    if not conditions:
        return []
    return list(db.scalars(select(ScamFlag).where(or_(*conditions)).order_by(ScamFlag.id.desc())))


def open_flags(db: Session, *, limit: int = 100) -> list[ScamFlag]:
    """The specialist's queue: open flags, oldest first."""
    return list(
        db.scalars(
            select(ScamFlag)
            .where(ScamFlag.status == "open")
            .order_by(ScamFlag.created_at, ScamFlag.id)
            .limit(limit)
        )
    )


def handle_flag(
    db: Session, flag_id: int, *, note: str, actor: audit.Actor, now: datetime | None = None
) -> ScamFlag:
    row = db.get(ScamFlag, flag_id)
    if row is None:
        raise NotFound("no such flag")
    if row.status == "handled":
        raise Conflict("the flag was already handled")
    row.status = "handled"
    row.handled_by = actor.name
    row.handled_at = now or utcnow()
    row.handling_note = mask(note.strip())[:2000] or None
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="antifraud.flag.handle",
        customer_id=row.customer_id,
        case_reference=row.case_reference,
        after={"flag": row.id, "kinds": row.kinds},
    )
    return row
