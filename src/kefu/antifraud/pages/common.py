"""What the anti-fraud console pages share: the permissions behind each tab, the tabs
themselves, the page frame, the posted form and how a service refusal reads on a page.

Pages call ``kefu.antifraud.service`` only and are drawn on the server. A refused form is
drawn again with what was typed and the reason, with the error's HTTP status, never a
traceback. Forms carry the session's CSRF token, checked by ``kefu.identity.deps.current_staff``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from kefu import audit
from kefu.antifraud import service
from kefu.antifraud.schemas import ROLES
from kefu.config import Settings
from kefu.db import utcnow
from kefu.errors import KefuError, NotFound
from kefu.i18n import Lang
from kefu.identity import service as identity_service
from kefu.identity.deps import CSRF_FIELD, StaffPrincipal, require
from kefu.identity.models import Customer
from kefu.numbers import RowId
from kefu.web.forms import error_text

Reader = Annotated[StaffPrincipal, Depends(require("antifraud.read"))]
Manager = Annotated[StaffPrincipal, Depends(require("antifraud.manage"))]
Reviewer = Annotated[StaffPrincipal, Depends(require("antifraud.review"))]
Caller = Annotated[StaffPrincipal, Depends(require("antifraud.outbound"))]
Supervisor = Annotated[StaffPrincipal, Depends(require("antifraud.lookups"))]
EntryId = Annotated[RowId, Path()]
ReportId = Annotated[RowId, Path()]

KINDS = tuple(ROLES)
PAGE_SIZE = 50
# The tabs of the anti-fraud pages, in order, with the permission each needs.
TABS = (
    ("registry", "antifraud.read"),
    ("reports", "antifraud.review"),
    ("flags", "antifraud.read"),
    ("calls", "antifraud.outbound"),
    ("lookups", "antifraud.lookups"),
)
# Service refusals that name a field, said plainly for the page (the service's own texts
# are for the API, where the field is returned beside the message).
_FIELD_REASONS: dict[tuple[str, str], str] = {
    ("conflict", "value"): "antifraud.web.error.duplicate",
    ("invalid_input", "role"): "antifraud.web.error.role",
    ("invalid_input", "kind"): "antifraud.web.error.kind",
    ("invalid_input", "value"): "antifraud.web.error.value_too_long",
    ("invalid_input", "reason"): "antifraud.web.error.call_reason",
    ("invalid_input", "minutes"): "antifraud.web.error.minutes",
    ("invalid_input", "starts_at"): "antifraud.web.error.starts_at",
    ("invalid_input", "caller_number"): "antifraud.web.error.caller_number",
    ("invalid_input", "note"): "antifraud.web.error.note",
    ("not_found", "customer"): "antifraud.web.error.customer",
    ("invalid_input", "days"): "antifraud.web.error.days",
    ("invalid_input", "day"): "antifraud.web.error.day",
}


def reason_of(exc: KefuError, lang: Lang) -> str:
    """What a refused request is told on the page."""
    return error_text(exc, lang, reasons=_FIELD_REASONS)


async def form_data(request: Request) -> dict[str, str]:
    """The posted form's text fields (read here: the route body runs off the event loop)."""
    form = await request.form()
    return {name: value for name, value in form.items() if isinstance(value, str)}


FormData = Annotated[dict[str, str], Depends(form_data)]


def actor_of(staff: StaffPrincipal) -> audit.Actor:
    return staff.actor


def base(staff: StaffPrincipal, tab: str) -> dict[str, Any]:
    return {
        "staff": staff.user,
        "may": staff.may,
        "csrf_token": staff.token.csrf_token,
        "csrf_field": CSRF_FIELD,
        "nav_active": "antifraud",
        "tab": tab,
        "readable": service.readable,
        "tabs": [name for name, permission in TABS if staff.may(permission)],
    }


def today_of(settings: Settings) -> date:
    return utcnow().astimezone(settings.tz).date()


def customers(db: Session, ids: set[int | None]) -> dict[int, Customer]:
    found: dict[int, Customer] = {}
    for customer_id in ids:
        if customer_id is None:
            continue
        try:
            found[customer_id] = identity_service.get_customer(db, customer_id)
        except NotFound:
            continue
    return found
