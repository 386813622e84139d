"""Form plumbing: a refused form's error for every page, and for the help center CSRF for
visitors who have no session and the verified customer's cookie.

A page's form calls a domain service inside ``form_errors``: a ``KefuError`` there undoes
the session's work and becomes the form's error (the text in the person's language, the
field it names, the HTTP status), and the page draws the form again with it::

    with form_errors(db, lang) as refused:
        service.do_it(db, ...)
    if refused:
        return _page(request, ..., error=refused.text, status_code=refused.status)
    db.commit()

Public pages use a double-submit token: a random value in a ``SameSite=Strict`` cookie
and the same value in each form; another site can make a browser send the cookie but
cannot read it to fill the form. A customer who proved who they are with a one-time code
holds a customer token (the same kind the API hands out) in an HttpOnly cookie scoped to
``/help``; it lives no longer than the verification behind it.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from kefu.db import DbSession
from kefu.errors import CsrfFailed, KefuError, NotAuthenticated
from kefu.i18n import Lang, translate
from kefu.identity import secrets as kefu_secrets
from kefu.identity import service as identity_service
from kefu.identity.models import AccessToken, Customer
from kefu.web.templating import render

HELP_CSRF_COOKIE = "kefu_help_csrf"
# How a page words a refusal: the error and the person's language in, the text out.
Reason = Callable[[KefuError, Lang], str]


def error_text(
    exc: KefuError, lang: Lang, *, reasons: Mapping[tuple[str, str], str] | None = None
) -> str:
    """A domain error as the person reads it: the page's own words when ``reasons`` has a
    message key for the error's (code, field), else the error's own text."""
    key = reasons.get((exc.code, str(exc.params.get("field")))) if reasons else None
    return translate(key or exc.message_key, lang, **exc.params)


class Refused:
    """What the block under ``form_errors`` was refused with: false while nothing was."""

    def __init__(self) -> None:
        self.error: KefuError | None = None
        self.text = ""
        self.field: str | None = None
        self.status = 200

    def __bool__(self) -> bool:
        return self.error is not None

    @property
    def fields(self) -> dict[str, str]:
        """The reason beside the field it names (none when it names no field)."""
        return {self.field: self.text} if self.field else {}


@contextmanager
def form_errors(
    db: Session | None,
    lang: Lang,
    *,
    reason: Reason = error_text,
    catch: type[KefuError] | tuple[type[KefuError], ...] = KefuError,
) -> Iterator[Refused]:
    """Run a form's domain call; a ``catch`` error (any ``KefuError`` by default) is kept
    in the ``Refused`` this yields instead of raised, worded by ``reason``, after the
    session's work is rolled back (``db`` None: a page that only reads, nothing to undo).
    Other exceptions go through untouched."""
    refused = Refused()
    try:
        yield refused
    except catch as exc:
        if db is not None:
            db.rollback()
        field = exc.params.get("field")
        refused.error = exc
        refused.text = reason(exc, lang)
        refused.field = str(field) if field else None
        refused.status = exc.status


CUSTOMER_COOKIE = "kefu_customer"
HELP_PATH = "/help"


def _csrf_token(request: Request) -> str:
    token = request.cookies.get(HELP_CSRF_COOKIE, "")
    return token if 20 <= len(token) <= 100 else kefu_secrets.new_token()


def render_help(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> Response:
    """A help-center page with the visitor's CSRF token in its forms and cookie."""
    token = _csrf_token(request)
    values: dict[str, Any] = {
        "csrf_token": token,
        "demo": request.app.state.settings.demo,
    }
    values.update(context or {})
    response = render(request, name, values, status_code=status_code)
    response.set_cookie(
        HELP_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.secure_cookies,
        path=HELP_PATH,
    )
    return response


def check_csrf(request: Request, sent: str) -> None:
    expected = request.cookies.get(HELP_CSRF_COOKIE, "")
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise CsrfFailed()


def set_customer_cookie(request: Request, response: Response, token: str, max_age: int) -> None:
    response.set_cookie(
        CUSTOMER_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies,
        path=HELP_PATH,
    )


def clear_customer_cookie(response: Response) -> None:
    response.delete_cookie(CUSTOMER_COOKIE, path=HELP_PATH)


@dataclass(frozen=True)
class HelpCustomer:
    customer: Customer
    token: AccessToken


def help_customer(request: Request, db: DbSession) -> HelpCustomer | None:
    """The verified customer behind the help-center cookie, or None."""
    token = request.cookies.get(CUSTOMER_COOKIE)
    record = identity_service.resolve_token(db, token, kinds={"customer"}) if token else None
    if record is None or record.customer_id is None:
        return None
    customer = identity_service.get_customer(db, record.customer_id)
    if not request.state.lang_explicit:
        request.state.lang = customer.language
    return HelpCustomer(customer=customer, token=record)


def case_viewer(
    found: Annotated[HelpCustomer | None, Depends(help_customer)],
) -> HelpCustomer | None:
    """For a page that shows a verified customer their own data, and otherwise the way to
    verify (with HTTP 401) instead of an error."""
    return found


def verified_customer(
    found: Annotated[HelpCustomer | None, Depends(help_customer)],
) -> HelpCustomer:
    if found is None:
        raise NotAuthenticated()
    return found


# The route walk (tests/integration/core/test_route_permissions.py) reads this mark: routes
# behind these serve a verified customer only, never staff. Public pages that merely greet
# a verified customer use ``help_customer`` itself and stay public.
case_viewer.kefu_customer_page = True  # type: ignore[attr-defined]
verified_customer.kefu_customer_page = True  # type: ignore[attr-defined]

MaybeCustomer = Annotated[HelpCustomer | None, Depends(help_customer)]
CaseViewer = Annotated[HelpCustomer | None, Depends(case_viewer)]
VerifiedCustomer = Annotated[HelpCustomer, Depends(verified_customer)]
