"""Anti-fraud console pages (防诈骗): the registry of official channels and known scams,
the scam-report review queue, scam flags, genuine outbound calls and the look-up figures.

Pages call ``kefu.antifraud.service`` only and are drawn on the server. A refused form is
drawn again with what was typed and the reason, with the error's HTTP status, never a
traceback. Forms carry the session's CSRF token, checked by ``kefu.deps.current_staff``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from kefu import audit, paging
from kefu.antifraud import registry, reports, service
from kefu.antifraud.models import RegistryEntry, RegistryVersion
from kefu.antifraud.schemas import ROLES
from kefu.config import Settings
from kefu.db import DbSession, utcnow
from kefu.deps import CSRF_FIELD, SettingsDep, StaffPrincipal, require
from kefu.errors import Conflict, InvalidInput, KefuError, NotFound
from kefu.i18n import Lang, translate
from kefu.identity import service as identity_service
from kefu.identity.models import Customer
from kefu.numbers import RowId, parse_ascii_int
from kefu.storage import Storage
from kefu.web.templating import render

router = APIRouter(prefix="/console/antifraud", include_in_schema=False)
Reader = Annotated[StaffPrincipal, Depends(require("antifraud.read"))]
Manager = Annotated[StaffPrincipal, Depends(require("antifraud.manage"))]
Reviewer = Annotated[StaffPrincipal, Depends(require("antifraud.review"))]
Caller = Annotated[StaffPrincipal, Depends(require("antifraud.outbound"))]
Supervisor = Annotated[StaffPrincipal, Depends(require("antifraud.lookups"))]
EntryId = Annotated[RowId, Path()]
ReportId = Annotated[RowId, Path()]

KINDS = tuple(ROLES)
PAGE_SIZE = 50
DAY_CHOICES = (1, 7, 14, 30, 90)
MAX_DAYS = 90
# The tabs of the anti-fraud pages, in order, with the permission each needs.
TABS = (
    ("registry", "antifraud.read"),
    ("reports", "antifraud.review"),
    ("flags", "antifraud.read"),
    ("calls", "antifraud.outbound"),
    ("lookups", "antifraud.lookups"),
)
_TEXT_FIELDS = (
    "value",
    "label_zh",
    "label_en",
    "notes_zh",
    "notes_en",
    "cost_zh",
    "cost_en",
    "hours_zh",
    "hours_en",
    "source",
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
# Pydantic's error types, grouped into what the page says about a field.
_PYDANTIC_REASONS = {
    "missing": "required",
    "string_too_short": "required",
    "string_too_long": "too_long",
    "int_parsing": "number",
    "int_from_float": "number",
    "greater_than_equal": "range",
    "less_than_equal": "range",
    "date_parsing": "date",
    "date_from_datetime_parsing": "date",
    "literal_error": "choice",
}


def reason_of(exc: KefuError, lang: Lang) -> str:
    """What a refused request is told on the page."""
    key = _FIELD_REASONS.get((exc.code, str(exc.params.get("field"))))
    return translate(key or exc.message_key, lang, **exc.params)


async def form_data(request: Request) -> dict[str, str]:
    """The posted form's text fields (read here: the route body runs off the event loop)."""
    form = await request.form()
    return {name: value for name, value in form.items() if isinstance(value, str)}


FormData = Annotated[dict[str, str], Depends(form_data)]


def actor_of(staff: StaffPrincipal) -> audit.Actor:
    return staff.actor


def _base(staff: StaffPrincipal, tab: str) -> dict[str, Any]:
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


def _today(settings: Settings) -> date:
    return utcnow().astimezone(settings.tz).date()


def _customers(db: Session, ids: set[int | None]) -> dict[int, Customer]:
    found: dict[int, Customer] = {}
    for customer_id in ids:
        if customer_id is None:
            continue
        try:
            found[customer_id] = identity_service.get_customer(db, customer_id)
        except NotFound:
            continue
    return found


@router.get("")
def start(staff: Reader) -> Response:
    """The first anti-fraud page this person may use."""
    first = next(name for name, permission in TABS if staff.may(permission))
    return RedirectResponse(f"/console/antifraud/{first}", status_code=303)


# --- the registry ------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class HistoryRow:
    version: int
    change: str
    who: str
    when: datetime
    changes: list[Change]


_HIDDEN_IN_HISTORY = {"normalised", "version", "kind"}


def _history_rows(versions: list[RegistryVersion]) -> list[HistoryRow]:
    """Each version with the fields it changed (all set fields for the first)."""
    rows: list[HistoryRow] = []
    previous: dict[str, Any] = {}
    for version in versions:
        data = version.data
        changes = [
            Change(name, previous.get(name), value)
            for name, value in data.items()
            if name not in _HIDDEN_IN_HISTORY
            and value != previous.get(name)
            and (previous or (value not in ("", None) and name != "active"))
        ]
        rows.append(
            HistoryRow(
                version=version.version,
                change=version.change,
                who=version.edited_by.removeprefix("staff:"),
                when=version.edited_at,
                changes=changes,
            )
        )
        previous = data
    return list(reversed(rows))


def _bool_filter(state: str) -> bool | None:
    return {"active": True, "retired": False}.get(state)


@router.get("/registry")
def registry_page(
    request: Request,
    staff: Reader,
    db: DbSession,
    settings: SettingsDep,
    kind: Annotated[str, Query(max_length=16)] = "",
    status: Annotated[str, Query(max_length=12)] = "",
    state: Annotated[str, Query(max_length=12)] = "active",
    q: Annotated[str, Query(max_length=300)] = "",
    after: Annotated[str | None, Query(max_length=400)] = None,
    check: Annotated[str, Query(max_length=2048)] = "",
    saved: Annotated[RowId | None, Query()] = None,
) -> Response:
    lang: Lang = request.state.lang
    flt = service.EntryFilter(
        kind=kind if kind in KINDS else None,
        status=status if status in ("official", "scam") else None,
        active=_bool_filter(state),
        query=q.strip() or None,
    )
    verdict = None
    check_error = None
    status_code = 200
    if check.strip():
        try:
            verdict = service.verify(
                db,
                check,
                lang=lang,
                client_key=f"staff:{staff.user.username}",
                settings=settings,
            )
            db.commit()
        except KefuError as exc:
            db.rollback()
            check_error = reason_of(exc, lang)
            status_code = exc.status
    read, total = service.list_entries(db, flt, limit=PAGE_SIZE + 1, after=after)
    rows, next_cursor = registry.LIST_ORDER.cut(read, PAGE_SIZE)
    filters = {"kind": kind, "status": status, "state": state, "q": q}
    return render(
        request,
        "antifraud/registry.html",
        {
            **_base(staff, "registry"),
            "entries": rows,
            "total": total,
            **paging.pager_links(request, after, next_cursor),
            "filters": filters,
            "kinds": KINDS,
            "check": check,
            "verdict": verdict,
            "check_error": check_error,
            "saved": saved,
        },
        status_code=status_code,
    )


@router.get("/registry/new")
def new_entry_page(
    request: Request,
    staff: Manager,
    kind: Annotated[str, Query(max_length=16)] = "phone",
    status: Annotated[str, Query(max_length=12)] = "official",
) -> Response:
    form = {
        "kind": kind if kind in KINDS else "phone",
        "status": status if status in ("official", "scam") else "official",
        "position": "100",
        "public": "on",
    }
    return _entry_form(request, staff, form=form)


def _entry_form(
    request: Request,
    staff: StaffPrincipal,
    *,
    form: dict[str, str],
    entry: RegistryEntry | None = None,
    current: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "antifraud/entry_form.html",
        {
            **_base(staff, "registry"),
            "form": form,
            "entry": entry,
            "current": current,
            "errors": errors or {},
            "error": error,
            "kinds": KINDS,
            "roles": ROLES,
        },
        status_code=status_code,
    )


def _form_of(entry: RegistryEntry) -> dict[str, str]:
    """An entry's fields as the form shows them."""
    form = {name: str(getattr(entry, name) or "") for name in _TEXT_FIELDS}
    form.update(
        kind=entry.kind,
        status=entry.status,
        role=entry.role,
        toll_free="" if entry.toll_free is None else ("yes" if entry.toll_free else "no"),
        public="on" if entry.public else "",
        position=str(entry.position),
        reported_on=entry.reported_on.isoformat() if entry.reported_on else "",
        version=str(entry.version),
    )
    return form


def _entry_fields(
    form: dict[str, str], kind: str, lang: Lang
) -> tuple[service.EntryFields | None, dict[str, str]]:
    """The typed form as entry fields, or the problems per field."""
    data: dict[str, Any] = {name: form.get(name, "").strip() for name in _TEXT_FIELDS}
    data.update(
        kind=kind,
        status=form.get("status", ""),
        role=form.get("role") or None,
        toll_free={"yes": True, "no": False}.get(form.get("toll_free", "")),
        # only official entries are listed on Contact us; the box is hidden for scams
        public=form.get("status") == "official" and form.get("public") == "on",
        position=form.get("position", "").strip() or 100,
        reported_on=form.get("reported_on", "").strip() or None,
    )
    try:
        return service.EntryFields.model_validate(data), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for problem in exc.errors():
            name = str(problem["loc"][0]) if problem["loc"] else "value"
            what = _PYDANTIC_REASONS.get(problem["type"], "invalid")
            errors.setdefault(
                name,
                translate(
                    f"antifraud.web.invalid.{what}",
                    lang,
                    field=translate(f"antifraud.web.field.{name}", lang),
                    **{k: v for k, v in (problem.get("ctx") or {}).items() if k != "error"},
                ),
            )
        return None, errors


def _field_errors(exc: KefuError, lang: Lang) -> dict[str, str]:
    field = exc.params.get("field")
    return {str(field): reason_of(exc, lang)} if field else {}


@router.post("/registry")
def create_entry(request: Request, staff: Manager, db: DbSession, form: FormData) -> Response:
    lang: Lang = request.state.lang
    kind = form.get("kind", "")
    if kind not in KINDS:
        errors = {"kind": translate("antifraud.web.error.kind_choice", lang)}
        return _entry_form(
            request,
            staff,
            form=form,
            errors=errors,
            error=errors["kind"],
            status_code=400,
        )
    fields, errors = _entry_fields(form, kind, lang)
    if fields is None:
        message = translate("antifraud.web.error.check_fields", lang)
        return _entry_form(request, staff, form=form, errors=errors, error=message, status_code=400)
    try:
        entry = service.create_entry(db, fields, actor=actor_of(staff))
    except KefuError as exc:
        db.rollback()
        return _entry_form(
            request,
            staff,
            form=form,
            errors=_field_errors(exc, lang),
            error=reason_of(exc, lang),
            status_code=exc.status,
        )
    db.commit()
    return RedirectResponse(f"/console/antifraud/registry/{entry.id}?saved=1", status_code=303)


@router.get("/registry/{entry_id}")
def entry_page(
    request: Request,
    staff: Reader,
    db: DbSession,
    entry_id: EntryId,
    saved: Annotated[RowId | None, Query()] = None,
) -> Response:
    entry = service.get_entry(db, entry_id)
    return render(
        request,
        "antifraud/entry.html",
        {
            **_base(staff, "registry"),
            "entry": entry,
            "history": _history_rows(service.entry_history(db, entry_id)),
            "saved": saved,
        },
    )


@router.get("/registry/{entry_id}/edit")
def edit_entry_page(request: Request, staff: Manager, db: DbSession, entry_id: EntryId) -> Response:
    entry = service.get_entry(db, entry_id)
    return _entry_form(request, staff, form=_form_of(entry), entry=entry)


@router.post("/registry/{entry_id}")
def update_entry(
    request: Request, staff: Manager, db: DbSession, entry_id: EntryId, form: FormData
) -> Response:
    lang: Lang = request.state.lang
    entry = service.get_entry(db, entry_id)
    form = {**form, "kind": entry.kind}
    fields, errors = _entry_fields(form, entry.kind, lang)
    if fields is None:
        message = translate("antifraud.web.error.check_fields", lang)
        return _entry_form(
            request, staff, form=form, entry=entry, errors=errors, error=message, status_code=400
        )
    version = parse_ascii_int(form.get("version", ""))
    if version is None:
        message = translate("antifraud.web.error.no_version", lang)
        return _entry_form(request, staff, form=form, entry=entry, error=message, status_code=400)
    try:
        service.update_entry(db, entry_id, fields, actor=actor_of(staff), expected_version=version)
    except Conflict as exc:
        db.rollback()
        if exc.params.get("field") != "version":
            return _entry_form(
                request,
                staff,
                form=form,
                entry=entry,
                errors=_field_errors(exc, lang),
                error=reason_of(exc, lang),
                status_code=exc.status,
            )
        return _stale(request, staff, db, entry_id, form)
    except KefuError as exc:
        db.rollback()
        return _entry_form(
            request,
            staff,
            form=form,
            entry=entry,
            errors=_field_errors(exc, lang),
            error=reason_of(exc, lang),
            status_code=exc.status,
        )
    db.commit()
    return RedirectResponse(f"/console/antifraud/registry/{entry_id}?saved=1", status_code=303)


def _stale(
    request: Request, staff: StaffPrincipal, db: Session, entry_id: int, form: dict[str, str]
) -> Response:
    """Someone saved the entry after this form was drawn: keep what was typed, show what is
    saved now beside it, and take the new version so that saving again is a choice made
    with both in view."""
    current = service.get_entry(db, entry_id)
    latest = service.entry_history(db, entry_id)[-1]
    message = translate(
        "antifraud.web.error.stale",
        request.state.lang,
        who=latest.edited_by.removeprefix("staff:"),
        version=current.version,
    )
    return _entry_form(
        request,
        staff,
        form={**form, "version": str(current.version)},
        entry=current,
        current=_form_of(current),
        error=message,
        status_code=409,
    )


def _set_active(staff: StaffPrincipal, db: Session, entry_id: int, *, active: bool) -> Response:
    service.set_entry_active(db, entry_id, active=active, actor=actor_of(staff))
    db.commit()
    return RedirectResponse(f"/console/antifraud/registry/{entry_id}?saved=1", status_code=303)


@router.post("/registry/{entry_id}/retire")
def retire_entry(staff: Manager, db: DbSession, entry_id: EntryId) -> Response:
    return _set_active(staff, db, entry_id, active=False)


@router.post("/registry/{entry_id}/restore")
def restore_entry(staff: Manager, db: DbSession, entry_id: EntryId) -> Response:
    return _set_active(staff, db, entry_id, active=True)


# --- scam reports ------------------------------------------------------------------------


@router.get("/reports")
def reports_page(
    request: Request,
    staff: Reviewer,
    db: DbSession,
    status: Annotated[str, Query(max_length=12)] = "pending",
    after: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    chosen = status if status in ("pending", "confirmed", "rejected") else "pending"
    read, total = service.list_reports(db, status=chosen, limit=PAGE_SIZE + 1, after=after)
    rows, next_cursor = reports.LIST_ORDER.cut(read, PAGE_SIZE)
    return render(
        request,
        "antifraud/reports.html",
        {
            **_base(staff, "reports"),
            "reports": rows,
            "total": total,
            "status": chosen,
            **paging.pager_links(request, after, next_cursor),
        },
    )


def _report_page(
    request: Request,
    staff: StaffPrincipal,
    db: Session,
    report_id: int,
    *,
    form: dict[str, str] | None = None,
    error: str | None = None,
    reviewed: bool = False,
    status_code: int = 200,
) -> Response:
    lang: Lang = request.state.lang
    report = service.get_report(db, report_id)
    try:
        verdict = service.check_value(db, report.value, lang=lang)
    except InvalidInput:
        verdict = None
    return render(
        request,
        "antifraud/report.html",
        {
            **_base(staff, "reports"),
            "report": report,
            "items": service.report_items(db, report),
            "verdict": verdict,
            "form": form or {},
            "error": error,
            "reviewed": reviewed,
        },
        status_code=status_code,
    )


@router.get("/reports/{report_id}")
def report_page(
    request: Request,
    staff: Reviewer,
    db: DbSession,
    report_id: ReportId,
    reviewed: Annotated[RowId | None, Query()] = None,
) -> Response:
    return _report_page(request, staff, db, report_id, reviewed=reviewed is not None)


def _storage(request: Request) -> Storage:
    built: Storage = request.app.state.storage
    return built


@router.get("/reports/{report_id}/screenshots/{public_id}")
def report_screenshot(
    request: Request,
    _: Reviewer,
    db: DbSession,
    report_id: ReportId,
    public_id: Annotated[str, Path(max_length=32)],
) -> Response:
    """A report's screenshot, for staff only: never cached, never run as a page."""
    row = service.report_screenshot(db, service.get_report(db, report_id), public_id)
    return Response(
        _storage(request).get(row.storage_key),
        media_type=row.content_type,
        headers={
            "Cache-Control": "private, no-store",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Content-Disposition": f'inline; filename="{row.public_id}"',
        },
    )


@router.post("/reports/{report_id}/review")
def review_report(
    request: Request, staff: Reviewer, db: DbSession, report_id: ReportId, form: FormData
) -> Response:
    lang: Lang = request.state.lang
    decision = form.get("decision", "")
    note = form.get("note", "").strip()
    if decision not in ("confirm", "reject"):
        message = translate("antifraud.web.error.decision", lang)
        return _report_page(
            request, staff, db, report_id, form=form, error=message, status_code=400
        )
    if decision == "reject" and not note:
        message = translate("antifraud.web.error.reject_reason", lang)
        return _report_page(
            request, staff, db, report_id, form=form, error=message, status_code=400
        )
    try:
        service.review_report(
            db,
            report_id,
            decision="confirm" if decision == "confirm" else "reject",
            note=note,
            label_zh=form.get("label_zh", "").strip(),
            label_en=form.get("label_en", "").strip(),
            actor=actor_of(staff),
        )
    except Conflict as exc:
        db.rollback()
        report = service.get_report(db, report_id)
        # the service refuses a second decision, and confirming one of our own channels
        if report.status != "pending":
            message = translate(
                "antifraud.web.error.already_reviewed",
                lang,
                who=(report.reviewed_by or "").removeprefix("staff:"),
                status=translate(f"antifraud.web.report_status.{report.status}", lang),
            )
        else:
            message = translate("antifraud.web.error.official_not_scam", lang)
        return _report_page(
            request, staff, db, report_id, form=form, error=message, status_code=exc.status
        )
    except KefuError as exc:
        db.rollback()
        return _report_page(
            request,
            staff,
            db,
            report_id,
            form=form,
            error=reason_of(exc, lang),
            status_code=exc.status,
        )
    db.commit()
    return RedirectResponse(f"/console/antifraud/reports/{report_id}?reviewed=1", status_code=303)


# --- scam flags --------------------------------------------------------------------------


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
            **_base(staff, "flags"),
            "flags": flags,
            "customers": _customers(db, {f.customer_id for f in flags}),
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
    try:
        service.handle_flag(db, flag_id, note=note, actor=actor_of(staff))
    except Conflict as exc:
        db.rollback()
        message = translate("antifraud.web.error.flag_handled", lang)
        return _flags_page(request, staff, db, error=message, status_code=exc.status)
    db.commit()
    return RedirectResponse(f"/console/antifraud/flags?handled={flag_id}", status_code=303)


# --- genuine outbound calls --------------------------------------------------------------


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
            **_base(staff, "calls"),
            "form": form or {},
            "mine": mine,
            "recent": recent,
            "customers": _customers(db, {c.customer_id for c in mine + recent}),
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
        customer = _customers(db, {customer_id}).get(customer_id)
        form["customer"] = customer.wallet_account_id if customer else ""
    return _calls_page(request, staff, db, settings, form=form, recorded=recorded)


def _find_customer(db: Session, text: str) -> Customer:
    """A customer by wallet account or customer number, as agents see them in the console."""
    text = text.strip()
    found = identity_service.find_customer_by_account(db, text) if text else None
    number = parse_ascii_int(text) if found is None else None
    if number is not None:
        found = _customers(db, {number}).get(number)
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
    try:
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
    except KefuError as exc:
        db.rollback()
        return _calls_page(
            request,
            staff,
            db,
            settings,
            form=form,
            error=reason_of(exc, lang),
            errors=_field_errors(exc, lang),
            status_code=exc.status,
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


@dataclass(frozen=True)
class Figures:
    today: date
    days: int
    kind: str
    trends: list[service.LookupTrend]

    @property
    def dates(self) -> list[date]:
        return [self.today - timedelta(days=n) for n in range(self.days - 1, -1, -1)]


def _figures(db: Session, settings: Settings, *, days: str, kind: str, day: str) -> Figures:
    """The figures asked for; InvalidInput names the filter that makes no sense."""
    day_count = parse_ascii_int(days, high=MAX_DAYS)
    if day_count is None:
        raise InvalidInput("days out of range", field="days", max=MAX_DAYS)
    try:
        today = date.fromisoformat(day.strip()) if day.strip() else _today(settings)
    except ValueError as exc:
        raise InvalidInput("not a date", field="day") from exc
    chosen = kind if kind in KINDS else ""
    trends = service.lookup_trends(db, today=today, days=day_count, kind=chosen or None, limit=100)
    return Figures(today=today, days=day_count, kind=chosen, trends=trends)


FilterText = Annotated[str, Query(max_length=16)]


@router.get("/lookups")
def lookups_page(
    request: Request,
    staff: Supervisor,
    db: DbSession,
    settings: SettingsDep,
    days: FilterText = "7",
    kind: FilterText = "",
    day: FilterText = "",
) -> Response:
    lang: Lang = request.state.lang
    context = {
        **_base(staff, "lookups"),
        "kinds": KINDS,
        "filters": {"days": days, "kind": kind, "day": day},
    }
    try:
        figures = _figures(db, settings, days=days, kind=kind, day=day)
    except InvalidInput as exc:
        return render(
            request,
            "antifraud/lookups.html",
            {**context, "figures": None, "day_choices": DAY_CHOICES, "error": reason_of(exc, lang)},
            status_code=exc.status,
        )
    query = {"days": figures.days, "kind": figures.kind, "day": figures.today.isoformat()}
    return render(
        request,
        "antifraud/lookups.html",
        {
            **context,
            "figures": figures,
            "day_choices": sorted({*DAY_CHOICES, figures.days}),
            "csv_query": urlencode(query),
        },
    )


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (a value typed by anyone
    who checked it, or a phone number starting with ``+``)."""
    text = str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.get("/lookups.csv")
def lookups_csv(
    request: Request,
    _: Supervisor,
    db: DbSession,
    settings: SettingsDep,
    days: FilterText = "7",
    kind: FilterText = "",
    day: FilterText = "",
) -> Response:
    lang: Lang = request.state.lang
    try:
        figures = _figures(db, settings, days=days, kind=kind, day=day)
    except InvalidInput as exc:
        return Response(
            reason_of(exc, lang), status_code=exc.status, media_type="text/plain; charset=utf-8"
        )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            translate(f"antifraud.web.csv.{name}", lang)
            for name in ("kind", "value", "verdict", "surging")
        ]
        + [d.isoformat() for d in figures.dates]
        + [
            translate(f"antifraud.web.csv.{name}", lang)
            for name in ("total", "today", "clients_today", "average")
        ]
    )
    for trend in figures.trends:
        writer.writerow(
            [
                trend.kind,
                _cell(trend.value),
                trend.verdict,
                "1" if trend.surging else "0",
                *(trend.by_day.get(d, 0) for d in figures.dates),
                trend.total,
                trend.today,
                trend.clients_today,
                f"{trend.previous_daily_average:.2f}",
            ]
        )
    name = f"antifraud-lookups-{figures.today.isoformat()}-{figures.days}d.csv"
    return Response(
        "\ufeff" + out.getvalue(),  # the mark lets spreadsheet programs read UTF-8
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )
