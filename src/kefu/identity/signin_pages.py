"""The staff console's sign-in: a session cookie and CSRF on every form (the home page
is ``kefu.web.home``).

Sign-in forms get a double-submit CSRF token (cookie + hidden field) because there is no
session yet; once signed in, forms carry the session's own CSRF token, checked by
``kefu.identity.deps.current_staff``.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu.config import Settings
from kefu.db import DbSession
from kefu.deps import SettingsDep
from kefu.errors import CsrfFailed, TooManyRequests
from kefu.identity import secrets as kefu_secrets
from kefu.identity import service as identity_service
from kefu.identity import two_factor
from kefu.identity.deps import SESSION_COOKIE, StaffPrincipal, require
from kefu.identity.errors import TwoFactorLocked, TwoFactorWrong
from kefu.identity.models import AccessToken
from kefu.web.templating import render

router = APIRouter(prefix="/console", include_in_schema=False)
LOGIN_CSRF_COOKIE = "kefu_login_csrf"
# between the password and the authenticator's code: a token of its own kind, which no
# route but the code step accepts
CODE_STEP_COOKIE = "kefu_login_step"
PENDING_KIND = "login2fa"
CODE_STEP_SECONDS = 300
CODE_TEMPLATE = "console/login_code.html"


def _login_page(
    request: Request,
    *,
    error: str | None = None,
    status_code: int = 200,
    template: str = "console/login.html",
    params: dict[str, object] | None = None,
) -> Response:
    token = kefu_secrets.new_token()
    response = render(
        request,
        template,
        {"csrf_token": token, "error": error, "params": params or {}},
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.secure_cookies,
        path="/console",
    )
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
def login(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not csrf_token or not hmac.compare_digest(expected, csrf_token):
        raise CsrfFailed()
    try:
        user = identity_service.authenticate_staff(
            db,
            username=username,
            password=password,
            client_ip=request.client.host if request.client else None,
            max_failures=settings.login_max_failures,
            window_seconds=settings.login_failure_window_seconds,
        )
    except TooManyRequests:
        return _login_page(request, error="console.login.throttled", status_code=429)
    db.commit()
    if user is None:
        return _login_page(request, error="console.login.failed", status_code=401)
    if two_factor.enabled(user):
        return _ask_for_code(request, db, user.id)
    return _signed_in(request, db, settings, user.id)


def _ask_for_code(request: Request, db: Session, staff_user_id: int) -> Response:
    """The password was right; the session waits for the authenticator's code, carried by
    a short-lived token that proves only the first step."""
    pending = identity_service.issue_token(
        db, kind=PENDING_KIND, ttl_seconds=CODE_STEP_SECONDS, staff_user_id=staff_user_id
    )
    db.commit()
    response = RedirectResponse("/console/login/code", status_code=303)
    response.set_cookie(
        CODE_STEP_COOKIE,
        pending.token,
        max_age=CODE_STEP_SECONDS,
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.cookie_secure,
        path="/console/login",
    )
    return response


def _signed_in(request: Request, db: Session, settings: Settings, staff_user_id: int) -> Response:
    issued = identity_service.issue_token(
        db, kind="session", ttl_seconds=settings.session_ttl_seconds, staff_user_id=staff_user_id
    )
    db.commit()
    response = RedirectResponse("/console", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        issued.token,
        max_age=settings.session_ttl_seconds,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    response.delete_cookie(CODE_STEP_COOKIE, path="/console/login")
    return response


def _pending(request: Request, db: Session) -> AccessToken | None:
    token = request.cookies.get(CODE_STEP_COOKIE, "")
    record = identity_service.resolve_token(db, token, kinds={PENDING_KIND}) if token else None
    return record if record is not None and record.staff_user_id is not None else None


@router.get("/login/code")
def code_form(request: Request, db: DbSession) -> Response:
    if _pending(request, db) is None:
        return RedirectResponse("/console/login", status_code=303)
    return _login_page(request, template=CODE_TEMPLATE)


@router.post("/login/code")
def submit_code(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    code: Annotated[str, Form(max_length=20)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not csrf_token or not hmac.compare_digest(expected, csrf_token):
        raise CsrfFailed()
    pending = _pending(request, db)
    if pending is None or pending.staff_user_id is None:
        return RedirectResponse("/console/login", status_code=303)
    user = identity_service.get_staff(db, pending.staff_user_id)
    try:
        two_factor.check_code(db, user, code=code, settings=settings)
    except TwoFactorWrong as exc:
        db.commit()  # the wrong code counts
        return _login_page(
            request,
            template=CODE_TEMPLATE,
            error=exc.message_key,
            params=exc.params,
            status_code=401,
        )
    except TwoFactorLocked as exc:
        identity_service.revoke_token(db, pending)
        db.commit()
        return _login_page(request, template=CODE_TEMPLATE, error=exc.message_key, status_code=423)
    identity_service.revoke_token(db, pending)
    return _signed_in(request, db, settings, user.id)


ConsoleUser = Annotated[StaffPrincipal, Depends(require("console.use"))]


@router.post("/logout")
def logout(staff: ConsoleUser, db: DbSession) -> Response:
    identity_service.revoke_token(db, staff.token)
    db.commit()
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
