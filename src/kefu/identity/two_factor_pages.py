"""A staff member's own two-factor sign-in page: set up the authenticator app, confirm it
with a first code, and read the recovery codes once. Staff whose role requires two-factor
sign-in are sent here by ``kefu.identity.deps.current_staff`` until it is on."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from kefu.db import DbSession
from kefu.deps import SettingsDep
from kefu.errors import KefuError
from kefu.i18n import translate
from kefu.identity import two_factor
from kefu.identity.deps import CSRF_FIELD, StaffPrincipal, require
from kefu.identity.errors import TwoFactorLocked
from kefu.web.templating import render

router = APIRouter(prefix="/console/two-factor", include_in_schema=False)
Me = Annotated[StaffPrincipal, Depends(require("console.use"))]


def _page(
    request: Request,
    staff: StaffPrincipal,
    db: DbSession,
    settings: SettingsDep,
    *,
    setup_uri: str | None = None,
    recovery_codes: list[str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    user = staff.user
    context: dict[str, Any] = {
        "staff": user,
        "may": staff.may,
        "csrf_token": staff.token.csrf_token,
        "csrf_field": CSRF_FIELD,
        "nav_active": "two_factor",
        "enabled": two_factor.enabled(user),
        "required": two_factor.required_for(user.role, settings),
        "locked": user.totp_locked_at is not None,
        "setup_uri": setup_uri,
        "secret": two_factor.pending_secret(user, settings) if setup_uri else None,
        "recovery_codes": recovery_codes,
        "recovery_left": two_factor.recovery_codes_left(db, user),
        "error": error,
    }
    return render(request, "staff/two_factor.html", context, status_code=status_code)


@router.get("")
def two_factor_page(request: Request, staff: Me, db: DbSession, settings: SettingsDep) -> Response:
    return _page(request, staff, db, settings)


@router.post("/setup")
def begin(request: Request, staff: Me, db: DbSession, settings: SettingsDep) -> Response:
    if two_factor.enabled(staff.user):
        return RedirectResponse("/console/two-factor", status_code=303)
    uri = two_factor.begin_setup(db, staff.user, settings=settings)
    db.commit()
    return _page(request, staff, db, settings, setup_uri=uri)


@router.post("/confirm")
def confirm(
    request: Request,
    staff: Me,
    db: DbSession,
    settings: SettingsDep,
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    try:
        codes = two_factor.confirm_setup(db, staff.user, code=code, settings=settings)
    except KefuError as exc:
        db.commit()  # a wrong code counts
        message = translate(exc.message_key, request.state.lang, **exc.params)
        if (
            isinstance(exc, TwoFactorLocked)
            or two_factor.pending_secret(staff.user, settings) is None
        ):
            return _page(request, staff, db, settings, error=message, status_code=exc.status)
        uri = two_factor.provisioning_uri(staff.user, settings)
        return _page(
            request, staff, db, settings, setup_uri=uri, error=message, status_code=exc.status
        )
    db.commit()
    return _page(request, staff, db, settings, recovery_codes=codes)
