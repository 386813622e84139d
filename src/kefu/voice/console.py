"""Console pages of the hotline: the call-backs owed (回电任务) with the caller's context,
where the agent reads the number to dial (audited) and records how the call-back went;
and all of one customer's calls.

A revealed number is drawn into the page answering the POST, never put in a URL, and the
page is not cached.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from kefu import audit
from kefu.db import DbSession, utcnow
from kefu.identity import service as identity_service
from kefu.identity.deps import CSRF_FIELD, StaffPrincipal, require
from kefu.numbers import RowId
from kefu.voice import callbacks, views
from kefu.web.forms import form_errors
from kefu.web.templating import render

router = APIRouter(prefix="/console", include_in_schema=False)
Reader = Annotated[StaffPrincipal, Depends(require("voice.read"))]
Writer = Annotated[StaffPrincipal, Depends(require("voice.write"))]
CallbackId = Annotated[RowId, Path()]
ALL_CALLS_LIMIT = 200


def _base(staff: StaffPrincipal) -> dict[str, Any]:
    return {
        "staff": staff.user,
        "may": staff.may,
        "csrf_token": staff.token.csrf_token,
        "csrf_field": CSRF_FIELD,
        "outcomes": callbacks.OUTCOMES,
        "max_notes": callbacks.MAX_NOTES,
    }


def _actor(staff: StaffPrincipal) -> audit.Actor:
    return staff.actor


def _board(
    request: Request,
    db: DbSession,
    staff: StaffPrincipal,
    *,
    revealed: dict[int, str] | None = None,
    done: int | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    board = views.callback_board(db, request.state.lang)
    response = render(
        request,
        "voice/callbacks.html",
        {
            **_base(staff),
            "board": board,
            "revealed": revealed or {},
            "done": done,
            "error": error,
        },
        status_code=status_code,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/callbacks")
def callback_page(
    request: Request,
    staff: Reader,
    db: DbSession,
    done: Annotated[RowId | None, Query()] = None,
) -> Response:
    return _board(request, db, staff, done=done)


@router.post("/callbacks/{callback_id}/number")
def reveal(request: Request, callback_id: CallbackId, staff: Writer, db: DbSession) -> Response:
    """The full number, drawn into this one page; the reading is audited."""
    row = callbacks.get(db, callback_id)
    number = callbacks.reveal_number(db, row, actor=_actor(staff))
    db.commit()
    return _board(request, db, staff, revealed={row.id: number})


@router.post("/callbacks/{callback_id}/done")
def done(
    request: Request,
    callback_id: CallbackId,
    staff: Writer,
    db: DbSession,
    outcome: Annotated[str, Form(max_length=24)],
    notes: Annotated[str, Form(max_length=callbacks.MAX_NOTES)] = "",
) -> Response:
    with form_errors(db, request.state.lang) as refused:
        row = callbacks.get(db, callback_id, lock=True)
        callbacks.complete(
            db,
            row,
            staff_id=staff.user.id,
            actor=_actor(staff),
            outcome=outcome,
            notes=notes,
            now=utcnow(),
        )
    if refused:
        return _board(request, db, staff, error=refused.text, status_code=refused.status)
    db.commit()
    return RedirectResponse(f"/console/callbacks?done={callback_id}#done-title", status_code=303)


@router.get("/customers/{customer_id}/calls")
def customer_calls(
    request: Request,
    staff: Reader,
    db: DbSession,
    customer_id: Annotated[RowId, Path()],
) -> Response:
    """Every call of the customer (up to the newest 200), for when the timeline's ten are
    not enough."""
    customer = identity_service.get_customer(db, customer_id)
    history = views.customer_calls(db, customer.id, request.state.lang, limit=ALL_CALLS_LIMIT)
    return render(
        request,
        "voice/customer_calls.html",
        {**_base(staff), "customer": customer, "calls": history, "full": True},
    )
