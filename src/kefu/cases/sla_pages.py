"""SLA policies and business hours in the console: the targets per category and priority,
the opening hours, holidays as a calendar (a list of dates added at once), and a preview
of when a case opened now would be due.

A refused form is drawn again with what was typed and the reason; nothing is saved. Edits
made on a stale copy are refused (each form carries what it was drawn from).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu import audit
from kefu.cases import hours, policies
from kefu.cases.categories import Category, Priority
from kefu.db import DbSession
from kefu.deps import SettingsDep
from kefu.errors import Conflict, InvalidInput, KefuError
from kefu.i18n import Lang, translate
from kefu.identity.deps import CSRF_FIELD, StaffPrincipal, require
from kefu.numbers import RowId
from kefu.web.forms import error_text, form_errors
from kefu.web.templating import render

router = APIRouter(prefix="/console/sla", include_in_schema=False)
Manager = Annotated[StaffPrincipal, Depends(require("sla.manage"))]
PRIORITIES = tuple(p.value for p in Priority)


async def form_data(request: Request) -> dict[str, str]:
    form = await request.form()
    return {name: value for name, value in form.items() if isinstance(value, str)}


FormData = Annotated[dict[str, str], Depends(form_data)]


def _actor(staff: StaffPrincipal) -> audit.Actor:
    return staff.actor


def _reason(exc: KefuError, lang: Lang) -> str:
    field = str(exc.params.get("field") or "")
    if isinstance(exc, hours.StaleHours):
        return translate("sla.admin.error.stale", lang, who=exc.params.get("who", "—"))
    if isinstance(exc, Conflict) and field == "days":
        return translate("sla.admin.error.overlap", lang, **exc.params)
    if exc.code in {"invalid_input", "case_unknown_value"} and field:
        return translate(f"sla.admin.invalid.{field}", lang, **exc.params)
    return error_text(exc, lang)


def _page(
    request: Request,
    staff: StaffPrincipal,
    db: Session,
    settings: SettingsDep,
    *,
    form: dict[str, str] | None = None,
    error: tuple[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    rows = {(p.category, p.priority): p for p in policies.list_policies(db)}
    category = request.query_params.get("category", Category.RECHARGE_NOT_CREDITED.value)
    priority = request.query_params.get("priority", Priority.NORMAL.value)
    chosen = rows.get((category, priority))
    preview = (
        hours.preview(
            db,
            calendar_name=chosen.calendar,
            first=chosen.first_response_minutes,
            resolution=chosen.resolution_minutes,
            settings=settings,
        )
        if chosen is not None
        else None
    )
    current = hours.current(db, settings)
    context: dict[str, Any] = {
        "staff": staff.user,
        "may": staff.may,
        "csrf_token": staff.token.csrf_token,
        "csrf_field": CSRF_FIELD,
        "nav_active": "sla",
        "categories": [c.value for c in Category],
        "priorities": PRIORITIES,
        "rows": rows,
        "hours": current,
        "holidays": hours.holidays(db),
        "preview": preview,
        "preview_category": category,
        "preview_priority": priority,
        "form": form or {"hours": current.spec, "hours_version": str(current.version)},
        "error_form": error[0] if error else None,
        "error": error[1] if error else None,
        "notice": request.query_params.get("saved"),
    }
    return render(request, "sla/page.html", context, status_code=status_code)


@router.get("")
def sla_page(request: Request, staff: Manager, db: DbSession, settings: SettingsDep) -> Response:
    return _page(request, staff, db, settings)


@router.post("/hours")
def save_hours(
    request: Request, staff: Manager, db: DbSession, settings: SettingsDep, form: FormData
) -> Response:
    version = form.get("hours_version", "")
    with form_errors(db, request.state.lang, reason=_reason) as refused:
        hours.set_hours(
            db,
            spec=form.get("hours", "")[:200],
            expected_version=int(version) if version.isdigit() else -1,
            settings=settings,
            actor=_actor(staff),
        )
    if refused:
        now = hours.current(db, settings)
        kept = {**form, "hours_version": str(now.version)} if refused.status == 409 else form
        error = ("hours", refused.text)
        return _page(
            request, staff, db, settings, form=kept, error=error, status_code=refused.status
        )
    db.commit()
    return RedirectResponse("/console/sla?saved=hours#hours", status_code=303)


@router.post("/holidays")
def add_holidays(
    request: Request, staff: Manager, db: DbSession, settings: SettingsDep, form: FormData
) -> Response:
    with form_errors(db, request.state.lang, reason=_reason) as refused:
        hours.add_holidays(
            db,
            text=form.get("days", "")[:4000],
            name=form.get("name", ""),
            settings=settings,
            actor=_actor(staff),
        )
    if refused:
        current = hours.current(db, settings)
        kept = {**form, "hours": current.spec, "hours_version": str(current.version)}
        error = ("holidays", refused.text)
        return _page(
            request, staff, db, settings, form=kept, error=error, status_code=refused.status
        )
    db.commit()
    return RedirectResponse("/console/sla?saved=holidays#holidays", status_code=303)


@router.post("/holidays/{holiday_id}/delete")
def remove_holiday(holiday_id: Annotated[RowId, Path()], staff: Manager, db: DbSession) -> Response:
    hours.remove_holiday(db, holiday_id=holiday_id, actor=_actor(staff))
    db.commit()
    return RedirectResponse("/console/sla?saved=holiday_removed#holidays", status_code=303)


@router.post("/policies/{category}/{priority}")
def save_policy(
    request: Request,
    category: Annotated[str, Path(max_length=40)],
    priority: Annotated[str, Path(max_length=10)],
    staff: Manager,
    db: DbSession,
    settings: SettingsDep,
    form: FormData,
) -> Response:
    row = policies.get_policy(
        db,
        category=policies.parse_category(category).value,
        priority=policies.parse_priority(priority).value,
    )
    with form_errors(db, request.state.lang, reason=_reason) as refused:
        if form.get("updated_at") != row.updated_at.isoformat():
            raise hours.StaleHours("changed meanwhile", field="version", who=row.updated_by)
        changes = {
            "first_response_minutes": _minutes(form, "first_response_minutes"),
            "resolution_minutes": _minutes(form, "resolution_minutes"),
            "calendar": form.get("calendar", ""),
        }
        policies.update_policy(
            db, category=category, priority=priority, changes=changes, actor=_actor(staff)
        )
    if refused:
        error = ("policy", refused.text)
        return _page(request, staff, db, settings, error=error, status_code=refused.status)
    db.commit()
    target = f"/console/sla?saved=policy&category={category}&priority={priority}#preview"
    return RedirectResponse(target, status_code=303)


def _minutes(form: dict[str, str], field: str) -> int:
    raw = form.get(field, "").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= 366 * 24 * 60:
        raise InvalidInput("minutes", field="minutes")
    return int(raw)
