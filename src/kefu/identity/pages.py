"""Staff administration in the console: the staff list with invitations, a staff member's
page (profile, deactivation, password reset by link, two-factor reset), and the public
set-password page the invitation and reset mails link to.

A refused form is drawn again with what was typed and the reason beside the field, with
the error's HTTP status; nothing is saved. Forms carry the session's CSRF token (checked by
``kefu.identity.deps.current_staff``); the set-password page, used before any session exists, a
double-submit token like the sign-in form.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu import audit
from kefu.channels.deps import get_senders
from kefu.db import DbSession
from kefu.deps import SettingsDep
from kefu.errors import CsrfFailed, KefuError
from kefu.i18n import LANGUAGES, Lang, translate
from kefu.identity import secrets as kefu_secrets
from kefu.identity import service, staff_admin, two_factor
from kefu.identity.deps import CSRF_FIELD, StaffPrincipal, require
from kefu.identity.errors import LinkUnusable, StaleEdit
from kefu.identity.models import StaffUser
from kefu.identity.permissions import ROLE_ORDER
from kefu.numbers import RowId
from kefu.web.forms import error_text, form_errors
from kefu.web.templating import render

router = APIRouter(prefix="/console", include_in_schema=False)
Reader = Annotated[StaffPrincipal, Depends(require("staff.read"))]
Manager = Annotated[StaffPrincipal, Depends(require("staff.manage"))]
StaffId = Annotated[RowId, Path()]
SET_PASSWORD_COOKIE = "kefu_password_csrf"  # noqa: S105 - a cookie name, not a password
ROLES = tuple(role.value for role in ROLE_ORDER)
# the fields a refusal can name, each with its own sentence on the page
_FIELDS = ("username", "display_name", "email", "role", "language", "team", "active")
_HISTORY_FIELDS = ("display_name", "email", "role", "team", "language", "active")


def actor_of(staff: StaffPrincipal) -> audit.Actor:
    return staff.actor


def reason(exc: KefuError, lang: Lang) -> str:
    """What the page says about a refusal (shown beside the field it names)."""
    field = exc.params.get("field")
    if exc.code == "invalid_input" and field in _FIELDS:
        return translate(f"staff.invalid.{field}", lang, **exc.params)
    if exc.code == "conflict" and field == "username":
        return translate("staff.invalid.username_taken", lang)
    return error_text(exc, lang)


def _password_reason(exc: KefuError, lang: Lang) -> str:
    if exc.params.get("field") == "repeated":
        return translate("staff.invalid.repeated", lang)
    return error_text(exc, lang)


def _base(staff: StaffPrincipal) -> dict[str, Any]:
    return {
        "staff": staff.user,
        "may": staff.may,
        "csrf_token": staff.token.csrf_token,
        "csrf_field": CSRF_FIELD,
        "nav_active": "staff",
        "roles": ROLES,
        "languages": LANGUAGES,
    }


def _list_page(
    request: Request,
    staff: StaffPrincipal,
    db: Session,
    *,
    form: dict[str, str] | None = None,
    error: tuple[str | None, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    people = service.list_staff(db)
    return render(
        request,
        "staff/list.html",
        {
            **_base(staff),
            "people": people,
            "two_factor_required": {
                user.id: two_factor.required_for(user.role, request.app.state.settings)
                for user in people
            },
            "form": form or {"role": "agent", "language": "zh-CN"},
            "error_field": error[0] if error else None,
            "error": error[1] if error else None,
            "notice": notice,
        },
        status_code=status_code,
    )


@router.get("/staff")
def staff_list(request: Request, staff: Reader, db: DbSession) -> Response:
    notice = request.query_params.get("invited")
    return _list_page(
        request,
        staff,
        db,
        notice=translate("staff.invite.sent", request.state.lang, email=notice) if notice else None,
    )


@router.post("/staff")
def invite(
    request: Request,
    staff: Manager,
    db: DbSession,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=64)] = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    language: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    form = {
        "username": username,
        "display_name": display_name,
        "email": email,
        "role": role,
        "language": language,
    }
    with form_errors(db, request.state.lang, reason=reason) as refused:
        user = staff_admin.invite(
            db,
            staff_admin.Invite(**form),
            actor=actor_of(staff),
            settings=settings,
            senders=get_senders(request),
        )
    if refused:
        return _list_page(
            request,
            staff,
            db,
            form=form,
            error=(refused.field, refused.text),
            status_code=refused.status,
        )
    db.commit()
    return RedirectResponse(f"/console/staff?invited={user.email}", status_code=303)


def _person_page(
    request: Request,
    staff: StaffPrincipal,
    db: Session,
    user: StaffUser,
    *,
    form: dict[str, str] | None = None,
    error: tuple[str | None, str] | None = None,
    current: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    saved = request.query_params.get("saved")
    return render(
        request,
        "staff/person.html",
        {
            **_base(staff),
            "person": user,
            "form": form or _form_of(user),
            "teams": staff_admin.teams(db),
            "two_factor_on": two_factor.enabled(user),
            "two_factor_required": two_factor.required_for(user.role, request.app.state.settings),
            "recovery_left": two_factor.recovery_codes_left(db, user),
            "history": _history(db, user),
            "error_field": error[0] if error else None,
            "error": error[1] if error else None,
            "current": current,
            "saved": translate(f"staff.saved.{saved}", request.state.lang) if saved else None,
        },
        status_code=status_code,
    )


def _form_of(user: StaffUser) -> dict[str, str]:
    return {
        "display_name": user.display_name,
        "email": user.email or "",
        "role": user.role,
        "team": user.team or "",
        "language": user.language,
        "version": str(user.version),
    }


@dataclass(frozen=True)
class HistoryRow:
    when: datetime
    who: str
    action: str
    changes: list[tuple[str, Any, Any]]  # (field, before, after) of the fields it changed


def _changes(event: audit.AuditEvent) -> list[tuple[str, Any, Any]]:
    before = json.loads(event.before) if event.before else {}
    after = json.loads(event.after) if event.after else {}
    return [
        (name, before.get(name), after[name])
        for name in _HISTORY_FIELDS
        if name in after and before.get(name) != after[name] and (before or name != "username")
    ]


def _history(db: Session, user: StaffUser) -> list[HistoryRow]:
    """The audited changes to this person, newest first (the trail is append-only)."""
    events = []
    for action in staff_admin.AUDITED:
        events += [
            e
            for e in audit.list_events(db, action=action, limit=200)
            if f'"username": "{user.username}"' in (e.after or "")
        ]
    events.sort(key=lambda e: e.id, reverse=True)
    return [
        HistoryRow(e.created_at, e.actor.removeprefix("staff:"), e.action, _changes(e))
        for e in events[:30]
    ]


@router.get("/staff/{staff_id}")
def person(request: Request, staff_id: StaffId, staff: Reader, db: DbSession) -> Response:
    return _person_page(request, staff, db, service.get_staff(db, staff_id))


def _version(raw: str) -> int:
    return int(raw) if raw.isdigit() else -1


def _stale(
    request: Request, staff: StaffPrincipal, db: Session, staff_id: int, form: dict[str, str]
) -> Response:
    """Someone saved this person after the form was drawn: keep what was typed, show what
    is saved now beside it, and take the new version, so saving again is a choice made
    with both in view."""
    db.rollback()
    user = service.get_staff(db, staff_id)
    latest = _history(db, user)
    who = latest[0].who if latest else "—"
    message = translate("staff.error.stale", request.state.lang, who=who, version=user.version)
    return _person_page(
        request,
        staff,
        db,
        user,
        form={**form, "version": str(user.version)},
        error=("version", message),
        current=staff_admin.snapshot(user),
        status_code=409,
    )


@router.post("/staff/{staff_id}")
def update_person(
    request: Request,
    staff_id: StaffId,
    staff: Manager,
    db: DbSession,
    display_name: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    team: Annotated[str, Form(max_length=100)] = "",
    language: Annotated[str, Form(max_length=8)] = "",
    version: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    form = {
        "display_name": display_name,
        "email": email,
        "role": role,
        "team": team,
        "language": language,
        "version": version,
    }
    user = service.get_staff(db, staff_id)
    profile = staff_admin.Profile(
        display_name=display_name, email=email or None, role=role, team=team, language=language
    )
    with form_errors(db, request.state.lang, reason=reason) as refused:
        staff_admin.update_profile(
            db, user, profile, expected_version=_version(version), actor=actor_of(staff)
        )
    if isinstance(refused.error, StaleEdit):
        return _stale(request, staff, db, staff_id, form)
    if refused:
        return _person_page(
            request,
            staff,
            db,
            service.get_staff(db, staff_id),
            form=form,
            error=(refused.field, refused.text),
            status_code=refused.status,
        )
    db.commit()
    return RedirectResponse(f"/console/staff/{staff_id}?saved=profile", status_code=303)


@router.post("/staff/{staff_id}/active")
def set_active(
    request: Request,
    staff_id: StaffId,
    staff: Manager,
    db: DbSession,
    active: Annotated[str, Form(pattern="^(0|1)$")] = "",
    version: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    user = service.get_staff(db, staff_id)
    with form_errors(db, request.state.lang, reason=reason) as refused:
        staff_admin.set_active(
            db,
            user,
            active=active == "1",
            expected_version=_version(version),
            actor=actor_of(staff),
        )
    if isinstance(refused.error, StaleEdit):
        return _stale(request, staff, db, staff_id, _form_of(user))
    if refused:
        return _person_page(
            request,
            staff,
            db,
            service.get_staff(db, staff_id),
            error=(refused.field, refused.text),
            status_code=refused.status,
        )
    db.commit()
    done = "activated" if active == "1" else "deactivated"
    return RedirectResponse(f"/console/staff/{staff_id}?saved={done}", status_code=303)


@router.post("/staff/{staff_id}/reset-password")
def reset_password(
    request: Request, staff_id: StaffId, staff: Manager, db: DbSession, settings: SettingsDep
) -> Response:
    user = service.get_staff(db, staff_id)
    with form_errors(db, request.state.lang, reason=reason) as refused:
        staff_admin.send_reset(
            db, user, actor=actor_of(staff), settings=settings, senders=get_senders(request)
        )
    if refused:
        return _person_page(
            request,
            staff,
            db,
            service.get_staff(db, staff_id),
            error=(refused.field, refused.text),
            status_code=refused.status,
        )
    db.commit()
    return RedirectResponse(f"/console/staff/{staff_id}?saved=reset_sent", status_code=303)


@router.post("/staff/{staff_id}/two-factor/reset")
def reset_two_factor(staff_id: StaffId, staff: Manager, db: DbSession) -> Response:
    two_factor.reset(db, service.get_staff(db, staff_id), actor=actor_of(staff))
    db.commit()
    return RedirectResponse(f"/console/staff/{staff_id}?saved=two_factor_reset", status_code=303)


# --- the set-password link ------------------------------------------------------------


def _password_page(
    request: Request,
    token: str,
    *,
    user: StaffUser | None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    csrf = kefu_secrets.new_token()
    response = render(
        request,
        "staff/set_password.html",
        {
            "token": token,
            "person": user,
            "error": error,
            "csrf_token": csrf,
            "min_length": service.MIN_PASSWORD_LENGTH,
        },
        status_code=status_code,
    )
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the address
    response.set_cookie(
        SET_PASSWORD_COOKIE,
        csrf,
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.cookie_secure,
        path="/console/set-password",
    )
    return response


@router.get("/set-password/{token}")
def set_password_form(
    request: Request, token: Annotated[str, Path(max_length=100)], db: DbSession
) -> Response:
    try:
        user = staff_admin.link_holder(db, token)
    except LinkUnusable as exc:
        message = translate(exc.message_key, request.state.lang)
        return _password_page(request, token, user=None, error=message, status_code=exc.status)
    return _password_page(request, token, user=user)


@router.post("/set-password/{token}")
def set_password(
    request: Request,
    token: Annotated[str, Path(max_length=100)],
    db: DbSession,
    password: Annotated[str, Form(max_length=256)] = "",
    repeated: Annotated[str, Form(max_length=256)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    expected = request.cookies.get(SET_PASSWORD_COOKIE, "")
    if not expected or not csrf_token or not hmac.compare_digest(expected, csrf_token):
        raise CsrfFailed()
    with form_errors(db, request.state.lang, reason=_password_reason) as refused:
        staff_admin.set_password(db, token, password=password, repeated=repeated)
    if refused:
        unusable = isinstance(refused.error, LinkUnusable)
        user = None if unusable else staff_admin.link_holder(db, token)
        return _password_page(
            request, token, user=user, error=refused.text, status_code=refused.status
        )
    db.commit()
    return RedirectResponse("/console/login?password=set", status_code=303)
