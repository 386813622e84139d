"""Genuine outbound calls: an agent records that they are about to call a customer, so
"is someone from you calling me?" can say yes; the agent's own and the latest calls."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu.antifraud import service
from kefu.antifraud.pages.common import (
    Caller,
    FormData,
    actor_of,
    base,
    customers,
    reason_of,
)
from kefu.config import Settings
from kefu.db import DbSession, utcnow
from kefu.deps import SettingsDep
from kefu.errors import InvalidInput, NotFound
from kefu.i18n import Lang
from kefu.identity import service as identity_service
from kefu.identity.deps import StaffPrincipal
from kefu.identity.models import Customer
from kefu.numbers import RowId, parse_ascii_int
from kefu.web.forms import form_errors
from kefu.web.templating import render

router = APIRouter(prefix="/console/antifraud", include_in_schema=False)


def _calls_page(
    request: Request,
    staff: StaffPrincipal,
    db: Session,
    settings: Settings,
    *,
    form: dict[str, str] | None = None,
    recorded: str | None = None,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    mine = service.list_outbound_calls(db, staff_id=staff.user.id, limit=20)
    recent = service.list_outbound_calls(db, limit=30)
    return render(
        request,
        "antifraud/calls.html",
        {
            **base(staff, "calls"),
            "form": form or {},
            "mine": mine,
            "recent": recent,
            "customers": customers(db, {c.customer_id for c in mine + recent}),
            "numbers": service.caller_numbers(db),
            "recorded": next((c for c in mine if c.public_id == recorded), None),
            "now": utcnow(),
            "grace": timedelta(minutes=settings.antifraud_call_grace_minutes),
            "error": error,
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/calls")
def calls_page(
    request: Request,
    staff: Caller,
    db: DbSession,
    settings: SettingsDep,
    customer_id: Annotated[RowId | None, Query()] = None,
    case: Annotated[str, Query(max_length=40)] = "",
    recorded: Annotated[str | None, Query(max_length=24)] = None,
) -> Response:
    form: dict[str, str] = {"minutes": "30", "case_reference": case}
    if customer_id is not None:
        customer = customers(db, {customer_id}).get(customer_id)
        form["customer"] = customer.wallet_account_id if customer else ""
    return _calls_page(request, staff, db, settings, form=form, recorded=recorded)


def _find_customer(db: Session, text: str) -> Customer:
    """A customer by wallet account or customer number, as agents see them in the console."""
    text = text.strip()
    found = identity_service.find_customer_by_account(db, text) if text else None
    number = parse_ascii_int(text) if found is None else None
    if number is not None:
        found = customers(db, {number}).get(number)
    if found is None:
        raise NotFound("no such customer", field="customer")
    return found


def _starts_at(text: str, settings: Settings) -> datetime | None:
    """A ``datetime-local`` value in the service's time zone; empty means now."""
    if not text.strip():
        return None
    try:
        local = datetime.strptime(text.strip(), "%Y-%m-%dT%H:%M")
    except ValueError as exc:
        raise InvalidInput("not a date and time", field="starts_at") from exc
    return local.replace(tzinfo=settings.tz)


@router.post("/calls")
def record_call(
    request: Request, staff: Caller, db: DbSession, settings: SettingsDep, form: FormData
) -> Response:
    lang: Lang = request.state.lang
    minutes = parse_ascii_int(form.get("minutes", ""))
    with form_errors(db, lang, reason=reason_of) as refused:
        if minutes is None:
            raise InvalidInput("not a number", field="minutes")
        customer = _find_customer(db, form.get("customer", ""))
        call = service.register_outbound_call(
            db,
            staff_id=staff.user.id,
            agent_name=staff.user.display_name,
            customer_id=customer.id,
            reason=form.get("reason", ""),
            case_reference=form.get("case_reference", "").strip() or None,
            caller_number=form.get("caller_number") or None,
            starts_at=_starts_at(form.get("starts_at", ""), settings),
            minutes=minutes,
            actor=actor_of(staff),
        )
    if refused:
        return _calls_page(
            request,
            staff,
            db,
            settings,
            form=form,
            error=refused.text,
            errors=refused.fields,
            status_code=refused.status,
        )
    db.commit()
    query = urlencode({"recorded": call.public_id})
    return RedirectResponse(f"/console/antifraud/calls?{query}", status_code=303)


@router.post("/calls/{public_id}/cancel")
def cancel_call(
    staff: Caller, db: DbSession, public_id: Annotated[str, Path(max_length=24)]
) -> Response:
    service.cancel_outbound_call(db, public_id, actor=actor_of(staff))
    db.commit()
    return RedirectResponse("/console/antifraud/calls", status_code=303)


# --- look-up figures ---------------------------------------------------------------------
