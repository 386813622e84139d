"""Who is calling, as request dependencies: a staff member (bearer token or the console's
session cookie, with its CSRF token), a customer who proved who they are, and whether they
may do what the route does (``require``, ``staff_or_customer``)."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from kefu import audit, dbwork
from kefu.config import Settings
from kefu.db import DbSession
from kefu.deps import SettingsDep, settings_of
from kefu.errors import CsrfFailed, NotAuthenticated, PermissionDenied
from kefu.identity import service as identity_service
from kefu.identity import two_factor
from kefu.identity.errors import TwoFactorSetupRequired
from kefu.identity.models import AccessToken, Customer, StaffUser
from kefu.identity.permissions import has_permission

SESSION_COOKIE = "kefu_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# What a person whose role requires two-factor sign-in may reach before setting it up.
TWO_FACTOR_SETUP_PATHS = ("/console/two-factor", "/console/logout")


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


@dataclass(frozen=True)
class StaffPrincipal:
    user: StaffUser
    token: AccessToken
    via_cookie: bool

    def may(self, permission: str) -> bool:
        return has_permission(self.user.role, permission)

    @property
    def actor(self) -> audit.Actor:
        """How this staff member is named in the audit log (``identity_service.staff_actor``)."""
        return identity_service.staff_actor(self.user)


async def sent_csrf_token(request: Request) -> str | None:
    """The CSRF token a cookie-authenticated, state-changing request carries, if any.

    Reading a form body needs ``await``, but the database work in ``current_staff`` must
    not run on the event loop: a blocked loop cannot finish the requests that hold the
    SQLite write lock, so the two would wait on each other. So the reading is done here.
    """
    if _bearer(request) is not None or request.method in _SAFE_METHODS:
        return None
    if header := request.headers.get(CSRF_HEADER):
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def current_staff(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    sent_csrf: Annotated[str | None, Depends(sent_csrf_token)],
) -> StaffPrincipal:
    """Staff from a bearer token (API) or the console session cookie.

    Cookie-authenticated requests that change something must echo the session's CSRF
    token in the form or the ``X-CSRF-Token`` header; bearer tokens are not sent by
    browsers on their own, so they need none.
    """
    return _staff(request, db, settings, sent_csrf)


def _staff(
    request: Request, db: Session, settings: Settings, sent_csrf: str | None
) -> StaffPrincipal:
    token = _bearer(request)
    via_cookie = token is None
    if token is None:
        token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotAuthenticated()
    kinds = {"session"} if via_cookie else {"api"}
    found = identity_service.resolve_staff_token(db, token, kinds=kinds)
    if found is None:
        raise NotAuthenticated()
    record, user = found
    if not user.is_active:
        raise NotAuthenticated()
    if via_cookie and request.method not in _SAFE_METHODS:
        expected = record.csrf_token
        if not sent_csrf or not expected or not hmac.compare_digest(sent_csrf, expected):
            raise CsrfFailed()
    request.state.lang = request.state.lang if request.state.lang_explicit else user.language
    setting_up = request.url.path.startswith(TWO_FACTOR_SETUP_PATHS)
    if not setting_up and two_factor.needs_setup(user, settings):
        raise TwoFactorSetupRequired()
    return StaffPrincipal(user=user, token=record, via_cookie=via_cookie)


CurrentStaff = Annotated[StaffPrincipal, Depends(current_staff)]


def require(permission: str) -> Callable[..., Any]:
    """A dependency that lets the call through only for staff holding ``permission``."""

    # async: a check with no I/O runs on the event loop, not in a threadpool hop of its own
    async def dependency(staff: CurrentStaff) -> StaffPrincipal:
        if not staff.may(permission):
            raise PermissionDenied()
        return staff

    dependency.kefu_permission = permission  # type: ignore[attr-defined]
    return dependency


def require_apart(permission: str) -> Callable[..., Any]:
    """``require`` for a route that does its database work in ``kefu.dbwork`` instead of
    the request's session (case creation): the caller is checked there on a read-only
    connection (on SQLite beside the writer thread, not in its queue), so the route's work
    is the request's one trip through the writer. Like ``require`` it answers 401 or 403
    before the body is validated."""

    async def dependency(
        request: Request, sent_csrf: Annotated[str | None, Depends(sent_csrf_token)]
    ) -> StaffPrincipal:
        settings = settings_of(request)

        def check(db: Session) -> StaffPrincipal:
            staff = _staff(request, db, settings, sent_csrf)
            if not staff.may(permission):
                raise PermissionDenied()
            return staff

        return await dbwork.for_app(request.app).read(check)

    dependency.kefu_permission = permission  # type: ignore[attr-defined]
    dependency.kefu_staff = True  # type: ignore[attr-defined]  # current_staff's check, within
    return dependency


@dataclass(frozen=True)
class CustomerPrincipal:
    customer: Customer
    token: AccessToken


def current_customer(request: Request, db: DbSession) -> CustomerPrincipal:
    """A customer who proved who they are with a one-time code, by their short-lived token."""
    token = _bearer(request)
    if token is None:
        raise NotAuthenticated()
    record = identity_service.resolve_token(db, token, kinds={"customer"})
    if record is None or record.customer_id is None:
        raise NotAuthenticated()
    customer = db.get(Customer, record.customer_id)
    if customer is None:
        raise NotAuthenticated()
    if not request.state.lang_explicit:
        request.state.lang = customer.language
    return CustomerPrincipal(customer=customer, token=record)


CurrentCustomer = Annotated[CustomerPrincipal, Depends(current_customer)]


def staff_or_customer(permission: str) -> Callable[..., Any]:
    """For routes a verified customer and staff both use (a case by its reference): a
    customer token gives the customer, who sees only their own; staff need ``permission``."""

    def dependency(
        request: Request,
        db: DbSession,
        settings: SettingsDep,
        sent_csrf: Annotated[str | None, Depends(sent_csrf_token)],
    ) -> StaffPrincipal | CustomerPrincipal:
        token = _bearer(request)
        if token is not None and identity_service.resolve_token(db, token, kinds={"customer"}):
            return current_customer(request, db)
        staff = current_staff(request, db, settings, sent_csrf)
        if not staff.may(permission):
            raise PermissionDenied()
        return staff

    dependency.kefu_permission = permission  # type: ignore[attr-defined]
    dependency.kefu_customer_allowed = True  # type: ignore[attr-defined]
    return dependency
