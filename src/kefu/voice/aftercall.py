"""The after-call page (通话小结) of a call an agent took, at ``/console/calls/{call_sid}``:
the call as it went (caller, menu path, self-service, agent, outcome), the agent's wrap-up
notes, the case it belongs to, and the written summary the caller receives, filled in per
outcome (solved, still open, waiting on the customer) to edit before it goes.

It calls the same functions as the staff API (``GET``/``POST /api/v1/voice/calls/{sid}/
summary``, ``PATCH /api/v1/voice/calls/{sid}``): ``calls.summary_drafts``,
``calls.update_record`` and ``calls.send_summary``. The agent reaches it from the
notification raised when their leg of the call ends, and from the case page's calls.
A refused form shows the page again with the reason and what the agent wrote.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu.cases import service as cases_service
from kefu.cases.summary import MAX_SUMMARY, OUTCOMES
from kefu.channels.deps import get_senders
from kefu.config import Settings
from kefu.db import DbSession, utcnow
from kefu.deps import SettingsDep
from kefu.errors import Conflict, InvalidInput, KefuError
from kefu.i18n import Lang, translate
from kefu.identity.deps import CSRF_FIELD, StaffPrincipal, require
from kefu.voice import calls, views
from kefu.voice.models import VoiceCall
from kefu.web.forms import error_text, form_errors
from kefu.web.templating import render

router = APIRouter(prefix="/console", include_in_schema=False)
Writer = Annotated[StaffPrincipal, Depends(require("voice.write"))]
CallSid = Annotated[str, Path(min_length=1, max_length=64)]
FINISHED_CASE = ("resolved", "closed")


def link(call_sid: str) -> str:
    return f"/console/calls/{call_sid}"


def summary_sent(db: Session, call: VoiceCall) -> bool:
    return any(event.kind == "summary_sent" for event in calls.events(db, call))


def _refusal(exc: KefuError, lang: Lang) -> str:
    """A refused form in words: a conflict names what stands in the way."""
    reason = exc.params.get("reason")
    if isinstance(exc, Conflict) and reason:
        return translate(f"voice.aftercall.refused.{reason}", lang)
    field = exc.params.get("field")
    if isinstance(exc, InvalidInput) and field in ("notes", "summary", "case", "outcome"):
        longest = calls.MAX_NOTES if field == "notes" else MAX_SUMMARY
        return translate(f"voice.aftercall.invalid.{field}", lang, max=longest)
    return error_text(exc, lang)


def _page(
    request: Request,
    db: Session,
    staff: StaffPrincipal,
    settings: Settings,
    call: VoiceCall,
    *,
    outcome: str = "open",
    kept: dict[str, str] | None = None,
    done: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    lang: Lang = request.state.lang
    record = views.call_record(db, call.call_sid, lang)
    assert record is not None
    case = (
        cases_service.get_case(db, call.case_reference) if call.case_reference is not None else None
    )
    open_cases = []
    if case is None and call.customer_id is not None:
        open_cases = [
            c
            for c in cases_service.list_cases(
                db, flt=cases_service.CaseFilter(customer_id=call.customer_id), limit=10
            )
            if c.status not in FINISHED_CASE
        ]
    context: dict[str, Any] = {
        "staff": staff.user,
        "may": staff.may,
        "csrf_token": staff.token.csrf_token,
        "csrf_field": CSRF_FIELD,
        "call": call,
        "record": record,
        "case": case,
        "open_cases": open_cases,
        "sent": summary_sent(db, call),
        "drafts": calls.summary_drafts(db, call, settings) if case is not None else {},
        "outcomes": OUTCOMES,
        "outcome": outcome if outcome in OUTCOMES else "open",
        "kept": kept or {},
        "max_summary": MAX_SUMMARY,
        "max_notes": calls.MAX_NOTES,
        "done": done,
        "error": error,
    }
    response = render(request, "voice/aftercall.html", context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/calls/{call_sid}")
def aftercall_page(
    request: Request,
    staff: Writer,
    db: DbSession,
    settings: SettingsDep,
    call_sid: CallSid,
    outcome: Annotated[str, Query(max_length=12)] = "open",
    done: Annotated[str, Query(max_length=12)] = "",
) -> Response:
    call = calls.require(db, call_sid)
    return _page(request, db, staff, settings, call, outcome=outcome, done=done or None)


@router.post("/calls/{call_sid}/case")
def link_case(
    request: Request,
    staff: Writer,
    db: DbSession,
    settings: SettingsDep,
    call_sid: CallSid,
    case: Annotated[str, Form(max_length=64)],
) -> Response:
    """The case the call belongs to, before the summary can name it."""
    call = calls.require(db, call_sid, lock=True)
    with form_errors(db, request.state.lang, reason=_refusal) as refused:
        if not case.strip():
            raise InvalidInput("choose a case", field="case")
        calls.update_record(
            db, call, actor=staff.actor, staff_id=staff.user.id, now=utcnow(), case_reference=case
        )
    if refused:
        return _page(
            request, db, staff, settings, call, error=refused.text, status_code=refused.status
        )
    db.commit()
    return RedirectResponse(f"{link(call_sid)}?done=linked", status_code=303)


@router.post("/calls/{call_sid}/summary")
def send_summary(
    request: Request,
    staff: Writer,
    db: DbSession,
    settings: SettingsDep,
    call_sid: CallSid,
    outcome: Annotated[str, Form(max_length=12)],
    summary: Annotated[str, Form(max_length=20_000)] = "",
    notes: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    """The wrap-up notes kept on the call, the case set as the outcome says, and the
    summary sent to the caller once."""
    call = calls.require(db, call_sid, lock=True)
    with form_errors(db, request.state.lang, reason=_refusal) as refused:
        if len(summary.strip()) > MAX_SUMMARY:
            raise InvalidInput("the summary is too long", field="summary")
        calls.update_record(
            db, call, actor=staff.actor, staff_id=staff.user.id, now=utcnow(), notes=notes
        )
        calls.send_summary(
            db,
            call,
            outcome=outcome,
            text=summary,
            actor=staff.actor,
            staff_id=staff.user.id,
            settings=settings,
            senders=get_senders(request),
            now=utcnow(),
        )
    if refused:
        db.refresh(call)
        return _page(
            request,
            db,
            staff,
            settings,
            call,
            outcome=outcome,
            kept={"summary": summary, "notes": notes},
            error=refused.text,
            status_code=refused.status,
        )
    db.commit()
    return RedirectResponse(f"{link(call_sid)}?done=sent", status_code=303)
