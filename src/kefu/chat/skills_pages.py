"""A staff member's routing skills on their staff page: the languages, case categories and
tiers they are offered work in, and how many chats they hold at once. The chat domain owns
routing, so it owns this page; the staff page (``kefu.identity.pages``) links to it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from kefu.chat import routing
from kefu.db import DbSession
from kefu.errors import KefuError
from kefu.i18n import LANGUAGES, Lang, translate
from kefu.identity import service as identity_service
from kefu.identity.deps import CSRF_FIELD, StaffPrincipal, require
from kefu.identity.models import StaffUser
from kefu.numbers import RowId
from kefu.web.forms import error_text, form_errors
from kefu.web.templating import render

router = APIRouter(prefix="/console/staff", include_in_schema=False)
Supervisor = Annotated[StaffPrincipal, Depends(require("routing.supervise"))]
StaffId = Annotated[RowId, Path()]


# the fields an agent's skills form has, each with its own words for a refusal
_FIELDS = ("languages", "categories", "tiers", "capacity")


def _reason(exc: KefuError, lang: Lang) -> str:
    field = exc.params.get("field")
    if field in _FIELDS:
        return translate(f"staff.skills.invalid.{field}", lang, **exc.params)
    return error_text(exc, lang)


def _page(
    request: Request,
    staff: StaffPrincipal,
    person: StaffUser,
    chosen: dict[str, Any],
    *,
    error: str | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "staff/skills.html",
        {
            "staff": staff.user,
            "may": staff.may,
            "csrf_token": staff.token.csrf_token,
            "csrf_field": CSRF_FIELD,
            "nav_active": "staff",
            "person": person,
            "chosen": chosen,
            "languages": LANGUAGES,
            "categories": routing.CATEGORIES,
            "tiers": routing.TIERS,
            "max_capacity": routing.MAX_CAPACITY,
            "error": error,
            "saved": saved,
        },
        status_code=status_code,
    )


@router.get("/{staff_id}/skills")
def skills_page(request: Request, staff_id: StaffId, staff: Supervisor, db: DbSession) -> Response:
    person = identity_service.get_staff(db, staff_id)
    agent = routing.profile(db, person)
    db.commit()  # a first look creates the profile with its defaults
    chosen = {
        "languages": list(agent.languages),
        "categories": list(agent.categories),
        "tiers": list(agent.tiers),
        "capacity": agent.capacity,
    }
    return _page(request, staff, person, chosen, saved="saved" in request.query_params)


@router.post("/{staff_id}/skills")
def save_skills(
    request: Request,
    staff_id: StaffId,
    staff: Supervisor,
    db: DbSession,
    languages: Annotated[list[str] | None, Form()] = None,
    categories: Annotated[list[str] | None, Form()] = None,
    tiers: Annotated[list[str] | None, Form()] = None,
    capacity: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    person = identity_service.get_staff(db, staff_id)
    chosen = {
        "languages": languages or [],
        "categories": categories or [],
        "tiers": tiers or [],
        "capacity": capacity,
    }
    with form_errors(db, request.state.lang, reason=_reason) as refused:
        routing.set_skills(
            db,
            person,
            languages=chosen["languages"],
            categories=chosen["categories"],
            tiers=chosen["tiers"],
            capacity=int(capacity) if capacity.isdigit() else 0,
            actor=staff.actor,
        )
    if refused:
        return _page(request, staff, person, chosen, error=refused.text, status_code=refused.status)
    db.commit()
    return RedirectResponse(f"/console/staff/{staff_id}/skills?saved=1", status_code=303)
