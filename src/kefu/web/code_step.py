"""The help center's one-time-code step, shared by every flow that verifies a customer
there (case tracking, "is someone from you calling me?"): send a code to the contact
given, show the "enter the code" page, resend, and on a right code the verified
customer's cookie. Each flow keeps its own first page and where it goes after."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Protocol

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from kefu import ratelimit
from kefu.channels.deps import get_senders
from kefu.channels.senders import Senders
from kefu.config import Settings
from kefu.db import DbSession
from kefu.errors import (
    CodeExpired,
    CodeInvalid,
    InvalidInput,
    NotFound,
    VerificationExpired,
    VerificationLocked,
)
from kefu.i18n import Lang
from kefu.identity import otp
from kefu.identity import service as identity_service
from kefu.identity.models import Verification
from kefu.identity.otp import CodeSent
from kefu.web.forms import error_text, form_errors, render_help, set_customer_cookie

CsrfField = Annotated[str, Form(max_length=100)]


class CodePage(Protocol):
    """A flow's "enter the code" page with what happened to show on it."""

    def __call__(
        self,
        *,
        sent: CodeSent | None = None,
        error: str | None = None,
        notice: str | None = None,
        status_code: int = 200,
    ) -> Response: ...


def _senders(request: Request) -> Senders:
    senders: Senders = get_senders(request)
    return senders


def code_page(
    request: Request,
    settings: Settings,
    *,
    action: str,
    fields: dict[str, str],
    submit: str,
    verification_id: str,
    destination: str,
    sent: CodeSent | None = None,
    error: str | None = None,
    notice: str | None = None,
    caution: str | None = None,
    status_code: int = 200,
) -> Response:
    """The "enter the code" page of any help-center flow: its forms post to
    ``{action}/confirm`` and ``{action}/resend`` with the flow's own ``fields`` carried
    along; ``submit`` and ``caution`` (a warning above the form) are catalogue keys."""
    return render_help(
        request,
        "help/code.html",
        {
            "action": action,
            "fields": fields,
            "submit": submit,
            "verification_id": verification_id,
            "destination": destination,
            "minutes": (sent.expires_in if sent else settings.otp_ttl_seconds) // 60,
            "error": error,
            "notice": notice,
            "caution": caution,
        },
        status_code=status_code,
    )


def send_code(request: Request, db: DbSession, settings: Settings, contact: str) -> CodeSent:
    """Count the request against the client address, then start proving ``contact`` (the
    code goes there only when it is a customer's). Raises KefuError; the caller commits."""
    ratelimit.hit(
        db,
        bucket="verification.start",
        key=request.client.host if request.client else "unknown",
        limit=settings.otp_max_per_client_per_hour,
        window_seconds=3600,
        secret=settings.secret_key,
    )
    return otp.start_verification(
        db, contact=contact, channel="web", settings=settings, senders=_senders(request)
    )


def sign_in(
    request: Request, db: DbSession, settings: Settings, verification: Verification, to: str
) -> Response:
    """The verified customer's cookie, and on to ``to`` (a path of ours)."""
    ttl = min(settings.customer_token_ttl_seconds, settings.verification_ttl_seconds)
    issued = identity_service.issue_token(
        db,
        kind="customer",
        ttl_seconds=ttl,  # the cookie must not outlive what it proves
        customer_id=verification.customer_id,
        verification_id=verification.id,
    )
    db.commit()
    response = RedirectResponse(to, status_code=303)
    set_customer_cookie(request, response, issued.token, ttl)
    return response


def confirm_and_sign_in(
    request: Request,
    db: DbSession,
    settings: Settings,
    lang: Lang,
    *,
    verification_id: str,
    code: str,
    to: str,
    retry: Callable[[str, int], Response],
    restart: Callable[[str, int], Response],
) -> Response:
    """The "confirm the code" step of any help-center flow: on a right code, the verified
    customer's cookie and on to ``to``. A wrong or malformed code counts towards the lock
    and shows the code page again (``retry``); a locked or expired verification, or an
    unknown one, sends the person back to the flow's first page (``restart``). Both get
    the error's text in ``lang`` and its HTTP status."""
    try:
        verification = otp.confirm_code(
            db, verification_public_id=verification_id, code=code, settings=settings
        )
    except (CodeInvalid, InvalidInput) as exc:
        db.commit()  # a wrong try counts towards the lock
        return retry(error_text(exc, lang), exc.status)
    except (VerificationLocked, VerificationExpired, CodeExpired, NotFound) as exc:
        db.commit()
        return restart(error_text(exc, lang), exc.status)
    return sign_in(request, db, settings, verification, to)


def resend(
    request: Request,
    db: DbSession,
    settings: Settings,
    lang: Lang,
    *,
    verification_id: str,
    page: CodePage,
) -> Response:
    """The "send the code again" step: the code page again, saying it was resent or, when
    it could not be (too soon, too many, expired), why, with the refusal's HTTP status."""
    sent: CodeSent | None = None
    with form_errors(db, lang) as refused:
        sent = otp.resend_code(
            db, verification_public_id=verification_id, settings=settings, senders=_senders(request)
        )
    if not refused:
        db.commit()
    return page(
        sent=sent,
        error=refused.text or None,
        notice="help.code.resent" if sent else None,
        status_code=refused.status,
    )
