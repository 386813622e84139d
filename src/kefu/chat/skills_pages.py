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
from kefu.i18n import LANGUAGES, translate
from kefu.identity import service as identity_service
from kefu.identity.deps import CSRF_FIELD, StaffPrincipal, require
from kefu.identity.models import StaffUser
from kefu.numbers import RowId
from kefu.web.templating import render

router = APIRouter(prefix="/console/staff", include_in_schema=False)
Supervisor = Annotated[StaffPrincipal, Depends(require("routing.supervise"))]
StaffId = Annotated[RowId, Path()]


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
    try:
        routing.set_skills(
            db,
            person,
            languages=chosen["languages"],
            categories=chosen["categories"],
            tiers=chosen["tiers"],
            capacity=int(capacity) if capacity.isdigit() else 0,
            actor=staff.actor,
        )
    except KefuError as exc:
        db.rollback()
        field = exc.params.get("field", "")
        message = translate(f"staff.skills.invalid.{field}", request.state.lang, **exc.params)
        return _page(request, staff, person, chosen, error=message, status_code=exc.status)
    db.commit()
    return RedirectResponse(f"/console/staff/{staff_id}/skills?saved=1", status_code=303)
