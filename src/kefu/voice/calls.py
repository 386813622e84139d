"""Call records: one row per call from the first webhook to the status callback, its
events, and how it ended. Functions flush and never commit.

Outcomes: ``self_service`` (the caller got an answer from the keypad and hung up),
``agent`` (a person talked to them), ``callback`` (a call-back is owed), ``abandoned``
(hung up while waiting for a person), ``hung_up`` (hung up in the menu with nothing done),
``failed`` (the carrier reports the call failed).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from kefu import audit
from kefu.cases import service as cases_service
from kefu.cases import summary as contact_summary
from kefu.cases.transitions import FINISHED, Mover, Status
from kefu.channels.senders import Senders
from kefu.config import Settings
from kefu.contacts import normalise_phone
from kefu.errors import Conflict, InvalidInput, NotFound
from kefu.i18n import normalise_lang, translate
from kefu.identity import service as identity_service
from kefu.masking import mask_phone
from kefu.quality import events as quality
from kefu.sensitive import mask
from kefu.voice.models import VoiceCall, VoiceCallEvent

log = logging.getLogger("kefu.voice")

OUTCOMES = ("self_service", "agent", "callback", "abandoned", "hung_up", "failed")
MAX_NOTES = 4000


@lru_cache(maxsize=4096)
def caller_number(raw: str) -> str | None:
    """The caller's number in E.164, or None when withheld or not a phone number
    (``anonymous``, ``client:alice``, a SIP address). Every webhook of a call carries
    it, so each is parsed once."""
    try:
        return normalise_phone(raw) if raw and raw[0] in "+0123456789" else None
    except InvalidInput:
        return None


def caller_key(settings: Settings, number: str | None, raw: str) -> str:
    """A keyed hash of the caller's number: repeat callers are seen, numbers not kept."""
    value = number or f"raw:{raw}"
    return hmac.new(settings.secret_key.encode(), value.encode(), hashlib.sha256).hexdigest()


def get(db: Session, call_sid: str, *, lock: bool = False) -> VoiceCall | None:
    query = select(VoiceCall).where(VoiceCall.call_sid == call_sid)
    if lock:
        query = query.with_for_update()
    return db.scalar(query)


def add_event(db: Session, call: VoiceCall, kind: str, now: datetime, /, **data: Any) -> None:
    db.add(VoiceCallEvent(call_id=call.id, kind=kind, data=data, created_at=now))


def open_call(
    db: Session,
    *,
    settings: Settings,
    call_sid: str,
    raw_from: str,
    dialled: str,
    menu_version: int,
    now: datetime,
) -> VoiceCall:
    """A new call record; the caller is matched to a customer by a registered phone."""
    number = caller_number(raw_from)
    customer = identity_service.find_customer_by_contact(db, number) if number else None
    call = VoiceCall(
        call_sid=call_sid,
        provider=settings.voice_provider,
        caller_masked=mask_phone(number) if number else "withheld",
        caller_key=caller_key(settings, number, raw_from),
        dialled=dialled[:32],
        customer_id=customer.id if customer else None,
        identified_by="caller_id" if customer else None,
        language=None,
        menu_version=menu_version,
        node="",
        step="lang",
        seq=0,
        state={},
        invalid_count=0,
        silent_count=0,
        path=[],
        results=[],
        status="ivr",
        urgent=False,
        started_at=now,
        last_request_at=now,
    )
    db.add(call)
    db.flush()
    add_event(db, call, "started", now, caller=call.caller_masked, matched=customer is not None)
    quality.record(
        db,
        "contact_arrived",
        channel="phone",
        at=now,
        call_sid=call_sid,
        customer_id=call.customer_id,
    )
    return call


def link_case(call: VoiceCall, *, case_id: int, reference: str, told: bool) -> None:
    call.case_id = case_id
    call.case_reference = reference
    if told:
        call.reference_told = reference


def end(
    db: Session,
    call: VoiceCall,
    *,
    outcome: str,
    now: datetime,
    duration: int | None = None,
) -> None:
    """Close the record; the linked case gets the call in its timeline."""
    if call.ended_at is not None:
        return
    call.status = "ended"
    call.outcome = call.outcome or outcome
    call.ended_at = now
    measured = int((now - call.started_at).total_seconds())
    call.duration_seconds = duration if duration is not None else max(0, measured)
    add_event(db, call, "ended", now, outcome=call.outcome, duration=call.duration_seconds)
    quality.record(
        db,
        "contact_ended",
        channel="phone",
        at=now,
        call_sid=call.call_sid,
        case_id=call.case_id,
        customer_id=call.customer_id,
        data={"outcome": call.outcome},
    )
    if call.case_reference:
        case = cases_service.get_case(db, call.case_reference)
        cases_service.record_call(
            db,
            case,
            summary=summary(call),
            outcome=call.outcome,
            actor=audit.Actor.system(),
            now=now,
            call_sid=call.call_sid,
        )


def summary(call: VoiceCall) -> str:
    """One line for the case timeline, in the staff's working language (Chinese)."""
    parts = [
        translate("voice.record.summary", "zh-CN", sid=call.call_sid, caller=call.caller_masked),
        translate(f"voice.outcome.{call.outcome}", "zh-CN"),
    ]
    if call.reference_told:
        parts.append(
            translate("voice.record.reference_told", "zh-CN", reference=call.reference_told)
        )
    if call.notes:
        parts.append(call.notes)
    return " · ".join(parts)


def events(db: Session, call: VoiceCall) -> list[VoiceCallEvent]:
    return list(
        db.scalars(
            select(VoiceCallEvent)
            .where(VoiceCallEvent.call_id == call.id)
            .order_by(VoiceCallEvent.id)
        )
    )


def require(db: Session, call_sid: str, *, lock: bool = False) -> VoiceCall:
    call = get(db, call_sid, lock=lock)
    if call is None:
        raise NotFound("no such call")
    return call


@dataclass(frozen=True)
class CallFilter:
    customer_id: int | None = None
    status: str | None = None
    outcome: str | None = None


def _filtered(query: Select[Any], flt: CallFilter) -> Select[Any]:
    if flt.customer_id is not None:
        query = query.where(VoiceCall.customer_id == flt.customer_id)
    if flt.status:
        query = query.where(VoiceCall.status == flt.status)
    if flt.outcome:
        query = query.where(VoiceCall.outcome == flt.outcome)
    return query


def list_calls(db: Session, flt: CallFilter, *, limit: int = 50) -> list[VoiceCall]:
    """Newest first."""
    query = select(VoiceCall).order_by(VoiceCall.started_at.desc(), VoiceCall.id.desc())
    return list(db.scalars(_filtered(query, flt).limit(limit)))


def count_calls(db: Session, flt: CallFilter) -> int:
    return int(db.scalar(_filtered(select(func.count(VoiceCall.id)), flt)) or 0)


def update_record(
    db: Session,
    call: VoiceCall,
    *,
    actor: audit.Actor,
    staff_id: int,
    now: datetime,
    notes: str | None = None,
    outcome: str | None = None,
    case_reference: str | None = None,
) -> VoiceCall:
    """An agent's after-call work: notes, the outcome, the case the call belongs to."""
    before = {"outcome": call.outcome, "case": call.case_reference}
    if notes is not None:
        cleaned = mask(notes.strip())
        if len(cleaned) > MAX_NOTES:
            raise InvalidInput("notes too long", field="notes")
        call.notes = cleaned or None
    if outcome is not None:
        if outcome not in OUTCOMES:
            raise InvalidInput(f"outcome must be one of {OUTCOMES}", field="outcome")
        call.outcome = outcome
    if case_reference is not None:
        case = cases_service.get_case(db, case_reference)
        if call.customer_id is not None and case.customer_id != call.customer_id:
            raise InvalidInput("the case belongs to another customer", field="case")
        link_case(call, case_id=case.id, reference=case.reference, told=False)
    add_event(db, call, "record_updated", now, staff_id=staff_id)
    audit.record(
        db,
        actor=actor,
        action="voice.call.update",
        customer_id=call.customer_id,
        case_reference=call.case_reference,
        before=before,
        after={"outcome": call.outcome, "case": call.case_reference, "notes": bool(call.notes)},
    )
    db.flush()
    return call


# --- the written summary after the call ----------------------------------------------

_CASE_AFTER: dict[str, Status] = {
    "solved": Status.RESOLVED,
    "open": Status.OPEN,
    "waiting": Status.PENDING_CUSTOMER,
}


def summary_drafts(db: Session, call: VoiceCall, settings: Settings) -> dict[str, str]:
    """The written summary the caller will receive, per outcome, in the call's language:
    what the agent reads (and may edit) before it goes."""
    case = (
        cases_service.get_case(db, call.case_reference) if call.case_reference is not None else None
    )
    lang = normalise_lang(call.language) or normalise_lang(case.language if case else None)
    return {
        outcome: contact_summary.draft(
            db,
            case,
            contact="call",
            outcome=outcome,
            since=call.started_at,
            settings=settings,
            lang=lang or settings.default_language,
        )
        for outcome in contact_summary.OUTCOMES
    }


def send_summary(
    db: Session,
    call: VoiceCall,
    *,
    outcome: str,
    text: str | None,
    actor: audit.Actor,
    staff_id: int,
    settings: Settings,
    senders: Senders,
    now: datetime,
) -> str:
    """After a call with a person: set the call's case as the agent says (solved, open,
    waiting on the customer) and send the caller the summary (``text`` as the agent left
    it, else the draft) by SMS, or e-mail without a phone; once per call. Returns what
    was sent."""
    if outcome not in contact_summary.OUTCOMES:
        raise InvalidInput("unknown outcome", field="outcome")
    if call.agent_staff_id is None:
        raise Conflict("no person took this call", reason="no_agent")
    if call.case_reference is None:
        raise Conflict("link the call to a case first", reason="no_case")
    if any(event.kind == "summary_sent" for event in events(db, call)):
        raise Conflict("the summary of this call was sent already", reason="already_sent")
    written = contact_summary.clean(text, summary_drafts(db, call, settings)[outcome])
    case = cases_service.get_case(db, call.case_reference, for_update=True)
    target = _CASE_AFTER[outcome]
    if Status(case.status) not in FINISHED and target.value != case.status:
        cases_service.move(
            db, case, target=target, mover=Mover.STAFF, actor=actor, settings=settings, now=now
        )
    contact_summary.send(db, case, body=written, senders=senders, actor=actor, now=now)
    add_event(db, call, "summary_sent", now, staff_id=staff_id, outcome=outcome)
    db.flush()
    return written
