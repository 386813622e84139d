"""Call-backs (回电): instead of waiting, at peak or out of hours, the caller leaves a
number and hangs up; a ``callback`` work item with the caller's context waits in the
agents' queue, and an identified caller gets a case and its reference on the spot.

The number to call is the one the caller rang from (confirmed on the keypad) or one they
type. It is the only full phone number the hotline stores; staff see it masked, and
reading it in full to dial is audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu import audit
from kefu.chat import routing
from kefu.contacts import normalise_phone
from kefu.errors import Conflict, InvalidInput, NotFound
from kefu.masking import mask_phone
from kefu.quality import events as quality
from kefu.sensitive import mask
from kefu.voice import casework, speech
from kefu.voice.engine import Ctx, InvalidKey, action, enter, goodbye, goto, step
from kefu.voice.menu import ActionNode
from kefu.voice.models import VoiceCall, VoiceCallback
from kefu.voice.twiml import Turn

OUTCOMES = ("reached", "no_answer", "wrong_number")
MAX_NOTES = 2000


def agent_context(ctx: Ctx) -> dict[str, Any]:
    """What the agent sees first: all masked, no code and no full number."""
    call = ctx.call
    return {
        "channel": "phone",
        "call_sid": call.call_sid,
        "caller": call.caller_masked,
        "language": ctx.lang,
        "verified": call.identified_by if call.verified_at else None,
        "menu_path": list(call.path),
        "self_service": list(call.results),
        "case_reference": call.case_reference,
    }


@action("callback")
def _callback_node(ctx: Ctx, node_id: str, node: ActionNode) -> Turn:
    """A menu option that books a call-back straight away."""
    return begin(ctx)


def begin(ctx: Ctx) -> Turn:
    if ctx.caller:
        goto(ctx, "callback.confirm", number=ctx.caller)
        return _confirm_prompt(ctx)
    goto(ctx, "callback.number")
    return _number_prompt(ctx)


def _confirm_prompt(ctx: Ctx) -> Turn:
    tail = speech.digits(str(ctx.call.state.get("number", ""))[-4:], ctx.lang)
    return ctx.ask(ctx.line("voice.callback.confirm", tail=tail))


@step("callback.confirm", _confirm_prompt)
def _confirm(ctx: Ctx, keys: str) -> Turn:
    if keys == "1":
        return _register(ctx, str(ctx.call.state["number"]))
    if keys == "2":
        goto(ctx, "callback.number")
        return _number_prompt(ctx)
    if keys == "*":
        return enter(ctx, ctx.tree.root)
    raise InvalidKey()


def _number_prompt(ctx: Ctx) -> Turn:
    return ctx.ask(ctx.line("voice.callback.number"), digits=16, finish="#", timeout=20)


@step("callback.number", _number_prompt)
def _number(ctx: Ctx, keys: str) -> Turn:
    if keys == "*":
        return enter(ctx, ctx.tree.root)
    typed = keys.rstrip("#")
    if not (typed.isascii() and typed.isdigit()):
        raise InvalidKey("voice.callback.bad_number")
    try:
        number = normalise_phone(typed)
    except InvalidInput:
        raise InvalidKey("voice.callback.bad_number") from None
    goto(ctx, "callback.confirm", number=number)
    return _confirm_prompt(ctx)


def _register(ctx: Ctx, number: str) -> Turn:
    call = ctx.call
    category = call.category or "other"
    row = VoiceCallback(
        call_id=call.id,
        customer_id=call.customer_id,
        number=number,
        number_masked=mask_phone(number),
        language=ctx.lang,
        category=category,
        urgent=call.urgent,
        status="requested",
        requested_at=ctx.now,
    )
    ctx.db.add(row)
    ctx.db.flush()
    lines = [ctx.line("voice.callback.registered")]
    if call.customer_id is not None:
        reference = call.case_reference or casework.open_case(
            ctx, category=category, subject_key="voice.case.subject.callback"
        )
        lines += casework.tell(ctx, reference)
        row.case_id = call.case_id
    item = routing.enqueue(
        ctx.db,
        kind="callback",
        language=ctx.lang,
        category=category,
        urgent=call.urgent,
        customer_id=call.customer_id,
        case_id=call.case_id,
        call_sid=call.call_sid,
        context={
            **agent_context(ctx),
            "callback_id": row.id,
            "callback_number": row.number_masked,
        },
        now=ctx.now,
        settings=ctx.settings,
    )
    row.work_item_id = item.id
    quality.record(
        ctx.db,
        "callback_requested",
        channel="phone",
        at=ctx.now,
        call_sid=call.call_sid,
        work_item_id=item.id,
        case_id=call.case_id,
        customer_id=call.customer_id,
        category=category,
    )
    call.outcome = "callback"
    ctx.result("callback", callback=row.id, reference=call.reference_told or "")
    return goodbye(ctx, *lines)


# --- for staff ----------------------------------------------------------------------------


def list_callbacks(
    db: Session, *, status: str | None = None, limit: int = 50
) -> list[VoiceCallback]:
    query = select(VoiceCallback).order_by(
        VoiceCallback.urgent.desc(), VoiceCallback.requested_at, VoiceCallback.id
    )
    if status:
        query = query.where(VoiceCallback.status == status)
    return list(db.scalars(query.limit(limit)))


def count_owed(db: Session) -> tuple[int, int]:
    """Call-backs still to make: (all, urgent)."""
    row = db.execute(
        select(
            func.count(VoiceCallback.id), func.count(VoiceCallback.id).filter(VoiceCallback.urgent)
        ).where(VoiceCallback.status == "requested")
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


def recently_done(db: Session, *, limit: int = 20) -> list[VoiceCallback]:
    return list(
        db.scalars(
            select(VoiceCallback)
            .where(VoiceCallback.status == "done")
            .order_by(VoiceCallback.done_at.desc(), VoiceCallback.id.desc())
            .limit(limit)
        )
    )


def get(db: Session, callback_id: int, *, lock: bool = False) -> VoiceCallback:
    query = select(VoiceCallback).where(VoiceCallback.id == callback_id)
    if lock:
        query = query.with_for_update()
    row = db.scalar(query)
    if row is None:
        raise NotFound("no such call-back")
    return row


def call_of(db: Session, row: VoiceCallback) -> VoiceCall:
    call = db.get(VoiceCall, row.call_id)
    assert call is not None  # a foreign key
    return call


def reveal_number(db: Session, row: VoiceCallback, *, actor: audit.Actor) -> str:
    """The full number, for the agent about to dial it; every reading is audited."""
    audit.record(
        db,
        actor=actor,
        action="voice.callback.number_read",
        customer_id=row.customer_id,
        after={"callback": row.id, "number": row.number_masked},
    )
    return row.number


def complete(
    db: Session,
    row: VoiceCallback,
    *,
    staff_id: int,
    actor: audit.Actor,
    outcome: str,
    notes: str | None,
    now: datetime,
) -> VoiceCallback:
    """The agent made the call-back; its work item is done."""
    if outcome not in OUTCOMES:
        raise InvalidInput(f"outcome must be one of {OUTCOMES}", field="outcome")
    if row.status != "requested":
        raise Conflict("this call-back is already done", reason="done")
    cleaned = mask((notes or "").strip())
    if len(cleaned) > MAX_NOTES:
        raise InvalidInput("notes too long", field="notes")
    row.status = "done"
    row.outcome = outcome
    row.notes = cleaned or None
    row.done_at = now
    row.done_by_id = staff_id
    if row.work_item_id is not None:
        item = routing.get_item(db, row.work_item_id)
        if item.status == "assigned":
            routing.finish(db, item, now)
        elif item.status in routing.OPEN:
            routing.cancel(db, item, reason="callback_done", now=now)
    call = call_of(db, row)
    quality.record(
        db,
        "callback_done",
        channel="phone",
        at=now,
        call_sid=call.call_sid,
        work_item_id=row.work_item_id,
        case_id=row.case_id,
        staff_id=staff_id,
        customer_id=row.customer_id,
        data={"outcome": outcome},
    )
    audit.record(
        db,
        actor=actor,
        action="voice.callback.done",
        customer_id=row.customer_id,
        after={"callback": row.id, "outcome": outcome},
    )
    db.flush()
    return row
