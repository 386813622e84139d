"""Scam flags: conversations and cases where a customer met a known scam, open ones first,
filtered by conversation, case or customer, and marking one handled."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu.antifraud import service
from kefu.antifraud.pages.common import (
    FormData,
    Reader,
    Reviewer,
    actor_of,
    base,
    customers,
)
from kefu.db import DbSession
from kefu.errors import Conflict, InvalidInput
from kefu.i18n import Lang, translate
from kefu.identity.deps import StaffPrincipal
from kefu.numbers import RowId, parse_ascii_int
from kefu.web.forms import form_errors
from kefu.web.templating import render

router = APIRouter(prefix="/console/antifraud", include_in_schema=False)


def _flags_page(
    request: Request,
    staff: StaffPrincipal,
    db: Session,
    *,
    conversation_id: int | None = None,
    case_reference: str | None = None,
    customer_id: int | None = None,
    handled: int | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    filtered = conversation_id is not None or bool(case_reference) or customer_id is not None
    if filtered:
        flags = service.flags_for(
            db,
            conversation_id=conversation_id,
            case_reference=case_reference,
            customer_id=customer_id,
        )
    else:
        flags = service.open_flags(db, limit=100)
    return render(
        request,
        "antifraud/flags.html",
        {
            **base(staff, "flags"),
            "flags": flags,
            "customers": customers(db, {f.customer_id for f in flags}),
            "filtered": filtered,
            "filter": {
                "conversation_id": conversation_id,
                "case_reference": case_reference or "",
                "customer_id": customer_id,
            },
            "handled": handled,
            "error": error,
        },
        status_code=status_code,
    )


def _number(text: str, field: str) -> int | None:
    """An optional id typed in a filter box."""
    text = text.strip()
    if not text:
        return None
    number = parse_ascii_int(text)
    if number is None:
        raise InvalidInput("not a number", field=field)
    return number


IdText = Annotated[str, Query(max_length=20)]


@router.get("/flags")
def flags_page(
    request: Request,
    staff: Reader,
    db: DbSession,
    conversation_id: IdText = "",
    case_reference: Annotated[str, Query(max_length=40)] = "",
    customer_id: IdText = "",
    handled: Annotated[RowId | None, Query()] = None,
) -> Response:
    try:
        conversation = _number(conversation_id, "conversation_id")
        customer = _number(customer_id, "customer_id")
    except InvalidInput as exc:
        message = translate("antifraud.web.error.id", request.state.lang)
        return _flags_page(request, staff, db, error=message, status_code=exc.status)
    return _flags_page(
        request,
        staff,
        db,
        conversation_id=conversation,
        case_reference=case_reference.strip() or None,
        customer_id=customer,
        handled=handled,
    )


@router.post("/flags/{flag_id}/handle")
def handle_flag(
    request: Request,
    staff: Reviewer,
    db: DbSession,
    flag_id: Annotated[RowId, Path()],
    form: FormData,
) -> Response:
    lang: Lang = request.state.lang
    note = form.get("note", "")
    if len(note) > 2000:
        message = translate("antifraud.web.error.note", lang)
        return _flags_page(request, staff, db, error=message, status_code=400)
    with form_errors(db, lang, catch=Conflict) as refused:
        service.handle_flag(db, flag_id, note=note, actor=actor_of(staff))
    if refused:  # someone handled it first
        message = translate("antifraud.web.error.flag_handled", lang)
        return _flags_page(request, staff, db, error=message, status_code=refused.status)
    db.commit()
    return RedirectResponse(f"/console/antifraud/flags?handled={flag_id}", status_code=303)
