"""Genuine outbound calls: an agent records a call before making it, and the customer can
ask "is someone from you calling me?" on any channel and get the truth.

A call is shown for its time window plus ``KEFU_ANTIFRAUD_CALL_GRACE_MINUTES``, so a
customer who checks right after hanging up still gets an answer. The number called from
must be one of our official outbound numbers or hotlines: an agent cannot record a call
from a number the registry does not vouch for.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu import audit
from kefu.antifraud import registry, values
from kefu.antifraud.models import OutboundCall, RegistryEntry
from kefu.antifraud.schemas import CallConfirmation, OutboundCallView
from kefu.cases import service as cases_service
from kefu.config import Settings, get_settings
from kefu.db import utcnow
from kefu.errors import InvalidInput, NotFound
from kefu.i18n import Lang, translate
from kefu.identity import service as identity_service
from kefu.sensitive import mask

MIN_MINUTES = 5
MAX_MINUTES = 8 * 60
_CALLER_ROLES = ("outbound", "hotline")


def caller_numbers(db: Session) -> list[RegistryEntry]:
    """The numbers agents may call customers from: official outbound numbers first (the
    first is the default), then hotlines, each in the registry's order."""
    official = [e for e in registry.official(db, ("phone",)) if e.role in _CALLER_ROLES]
    return sorted(official, key=lambda e: e.role != "outbound")


def _caller_number(db: Session, number: str | None) -> str:
    official = caller_numbers(db)
    if not official:
        raise InvalidInput("no official outbound number in the registry", field="caller_number")
    if number is None:
        return official[0].normalised
    parsed = values.normalise_for("phone", number)
    if parsed.normalised not in {e.normalised for e in official}:
        raise InvalidInput("calls are made only from an official number", field="caller_number")
    return parsed.normalised


def _display_number(normalised: str) -> str:
    return values.normalise_for("phone", normalised).display


def view(call: OutboundCall) -> OutboundCallView:
    return OutboundCallView(
        public_id=call.public_id,
        agent_name=call.agent_name,
        agent_number=f"{call.staff_id:04d}",
        staff_id=call.staff_id,
        customer_id=call.customer_id,
        case_reference=call.case_reference,
        reason=call.reason,
        caller_number=_display_number(call.caller_number),
        window_start=call.window_start,
        window_end=call.window_end,
        status=call.status,
    )


def register_outbound_call(
    db: Session,
    *,
    staff_id: int,
    agent_name: str,
    customer_id: int,
    reason: str,
    actor: audit.Actor,
    case_reference: str | None = None,
    caller_number: str | None = None,
    starts_at: datetime | None = None,
    minutes: int = 30,
    now: datetime | None = None,
) -> OutboundCall:
    """Record a call an agent is about to make (or is making) to a customer."""
    now = now or utcnow()
    customer = identity_service.get_customer(db, customer_id)
    reason = mask(reason.strip())
    if not reason:
        raise InvalidInput("say what the call is about", field="reason")
    if len(reason) > 300:
        raise InvalidInput("the reason is too long", field="reason")
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise InvalidInput(
            f"the window must be {MIN_MINUTES} to {MAX_MINUTES} minutes", field="minutes"
        )
    reference = None
    if case_reference:
        reference = cases_service.get_customer_case(
            db, customer_id=customer.id, reference=case_reference
        ).reference
    start = starts_at or now
    if start < now - timedelta(minutes=MIN_MINUTES) or start > now + timedelta(days=7):
        raise InvalidInput("the call must start within the next 7 days", field="starts_at")
    call = OutboundCall(
        public_id=secrets.token_urlsafe(12)[:16],
        staff_id=staff_id,
        agent_name=agent_name[:120],
        customer_id=customer.id,
        case_reference=reference,
        reason=reason,
        caller_number=_caller_number(db, caller_number),
        window_start=start,
        window_end=start + timedelta(minutes=minutes),
        status="planned",
        created_at=now,
    )
    db.add(call)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="antifraud.outbound.register",
        customer_id=customer.id,
        case_reference=reference,
        after={
            "call": call.public_id,
            "caller_number": call.caller_number,
            "window_start": call.window_start.isoformat(),
            "window_end": call.window_end.isoformat(),
        },
    )
    return call


def cancel_outbound_call(
    db: Session, public_id: str, *, actor: audit.Actor, now: datetime | None = None
) -> OutboundCall:
    call = db.scalar(select(OutboundCall).where(OutboundCall.public_id == public_id))
    if call is None:
        raise NotFound("no such call")
    if call.status == "cancelled":
        return call
    call.status = "cancelled"
    call.cancelled_at = now or utcnow()
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="antifraud.outbound.cancel",
        customer_id=call.customer_id,
        case_reference=call.case_reference,
        after={"call": call.public_id},
    )
    return call


def outbound_calls_for(
    db: Session, customer_id: int, now: datetime | None = None, *, settings: Settings | None = None
) -> list[OutboundCallView]:
    """Calls to this customer that are going on now (window plus grace), newest first."""
    now = now or utcnow()
    grace = timedelta(minutes=(settings or get_settings()).antifraud_call_grace_minutes)
    calls = db.scalars(
        select(OutboundCall)
        .where(
            OutboundCall.customer_id == customer_id,
            OutboundCall.status == "planned",
            OutboundCall.window_end >= now - grace,
            OutboundCall.window_start <= now + grace,
        )
        .order_by(OutboundCall.window_start.desc())
    )
    return [view(call) for call in calls]


def list_outbound_calls(
    db: Session, *, customer_id: int | None = None, staff_id: int | None = None, limit: int = 50
) -> list[OutboundCallView]:
    query = select(OutboundCall).order_by(OutboundCall.window_start.desc()).limit(limit)
    if customer_id is not None:
        query = query.where(OutboundCall.customer_id == customer_id)
    if staff_id is not None:
        query = query.where(OutboundCall.staff_id == staff_id)
    return [view(call) for call in db.scalars(query)]


def confirm_call(
    db: Session,
    customer_id: int,
    *,
    lang: Lang,
    number: str | None = None,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> CallConfirmation:
    """The answer to "is someone from you calling me?".

    With ``number`` (the number on the customer's screen) the answer also says when a call
    of ours is due but the number ringing is not the one we call from: a spoofed call.
    """
    calls = outbound_calls_for(db, customer_id, now, settings=settings)
    if number is not None:
        try:
            ringing = values.normalise_for("phone", number).normalised
        except InvalidInput:
            ringing = None
        matching = [
            c
            for c in calls
            if ringing and values.normalise_for("phone", c.caller_number).normalised == ringing
        ]
        if calls and not matching:
            return CallConfirmation(
                calling=False,
                message=translate(
                    "antifraud.call.wrong_number", lang, number=number, ours=calls[0].caller_number
                ),
                calls=[],
            )
        calls = matching
    if not calls:
        return CallConfirmation(calling=False, message=translate("antifraud.call.none", lang))
    call = calls[0]
    key = "antifraud.call.yes_case" if call.case_reference else "antifraud.call.yes"
    message = translate(
        key,
        lang,
        agent=call.agent_name,
        number=call.agent_number,
        case=call.case_reference or "",
        reason=call.reason,
        caller=call.caller_number,
    )
    return CallConfirmation(calling=True, message=message, calls=calls)
