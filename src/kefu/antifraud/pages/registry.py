"""The registry of official channels and known scams (防诈骗 · 官方渠道与已知诈骗): the list,
an entry with its history, and the entry form (create, edit, retire, restore). Saving an
entry someone changed after the form was drawn keeps what was typed beside what is saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from kefu import paging
from kefu.antifraud import registry, service
from kefu.antifraud.models import RegistryEntry, RegistryVersion
from kefu.antifraud.pages.common import (
    KINDS,
    PAGE_SIZE,
    TABS,
    EntryId,
    FormData,
    Manager,
    Reader,
    actor_of,
    base,
    reason_of,
)
from kefu.antifraud.schemas import ROLES
from kefu.db import DbSession
from kefu.deps import SettingsDep
from kefu.errors import Conflict
from kefu.i18n import Lang, translate
from kefu.identity.deps import StaffPrincipal
from kefu.numbers import RowId, parse_ascii_int
from kefu.web.forms import form_errors
from kefu.web.templating import render

router = APIRouter(prefix="/console/antifraud", include_in_schema=False)

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
    with form_errors(db, lang, reason=reason_of) as refused:
        if check.strip():
            verdict = service.verify(
                db,
                check,
                lang=lang,
                client_key=f"staff:{staff.user.username}",
                settings=settings,
            )
            db.commit()
    read, total = service.list_entries(db, flt, limit=PAGE_SIZE + 1, after=after)
    rows, next_cursor = registry.LIST_ORDER.cut(read, PAGE_SIZE)
    filters = {"kind": kind, "status": status, "state": state, "q": q}
    return render(
        request,
        "antifraud/registry.html",
        {
            **base(staff, "registry"),
            "entries": rows,
            "total": total,
            **paging.pager_links(request, after, next_cursor),
            "filters": filters,
            "kinds": KINDS,
            "check": check,
            "verdict": verdict,
            "check_error": refused.text or None,
            "saved": saved,
        },
        status_code=refused.status,
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
            **base(staff, "registry"),
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
    with form_errors(db, lang, reason=reason_of) as refused:
        entry = service.create_entry(db, fields, actor=actor_of(staff))
    if refused:
        return _entry_form(
            request,
            staff,
            form=form,
            errors=refused.fields,
            error=refused.text,
            status_code=refused.status,
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
            **base(staff, "registry"),
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
    with form_errors(db, lang, reason=reason_of) as refused:
        service.update_entry(db, entry_id, fields, actor=actor_of(staff), expected_version=version)
    if isinstance(refused.error, Conflict) and refused.field == "version":
        return _stale(request, staff, db, entry_id, form)
    if refused:
        return _entry_form(
            request,
            staff,
            form=form,
            entry=entry,
            errors=refused.fields,
            error=refused.text,
            status_code=refused.status,
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
