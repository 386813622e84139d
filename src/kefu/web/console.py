"""The staff console: sign-in with a session cookie and CSRF on every form (the home page
is ``kefu.web.home``).

Sign-in forms get a double-submit CSRF token (cookie + hidden field) because there is no
session yet; once signed in, forms carry the session's own CSRF token, checked by
``kefu.deps.current_staff``.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from kefu.db import DbSession
from kefu.deps import SESSION_COOKIE, SettingsDep, StaffPrincipal, require
from kefu.errors import CsrfFailed, TooManyRequests
from kefu.identity import secrets as kefu_secrets
from kefu.identity import service as identity_service
from kefu.web.templating import render

router = APIRouter(prefix="/console", include_in_schema=False)
LOGIN_CSRF_COOKIE = "kefu_login_csrf"


def _login_page(request: Request, *, error: str | None = None, status_code: int = 200) -> Response:
    token = kefu_secrets.new_token()
    response = render(
        request,
        "console/login.html",
        {"csrf_token": token, "error": error},
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.cookie_secure,
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
    issued = identity_service.issue_token(
        db, kind="session", ttl_seconds=settings.session_ttl_seconds, staff_user_id=user.id
    )
    db.commit()
    response = RedirectResponse("/console", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        issued.token,
        max_age=settings.session_ttl_seconds,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


ConsoleUser = Annotated[StaffPrincipal, Depends(require("console.use"))]


@router.post("/logout")
def logout(staff: ConsoleUser, db: DbSession) -> Response:
    identity_service.revoke_token(db, staff.token)
    db.commit()
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
