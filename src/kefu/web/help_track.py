"""Case tracking on the help center, up to the case page: a reference and a phone number
or e-mail address, then a one-time code.

The code goes to the contact given, whoever's it is, exactly as ``/api/v1/verifications``
does, so the form never reveals whether a reference or a contact exists; only after the
code is confirmed does the case show (``kefu.web.help_cases``), and only if it is the
verified customer's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from kefu import ratelimit
from kefu.cases import refs, tracking
from kefu.cases import service as cases_service
from kefu.cases.errors import CaseNotFound
from kefu.cases.schemas import CaseSummary
from kefu.channels.deps import get_senders
from kefu.channels.senders import Senders
from kefu.config import Settings
from kefu.db import DbSession
from kefu.deps import LangDep, SettingsDep
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
from kefu.web.forms import (
    HelpCustomer,
    MaybeCustomer,
    check_csrf,
    error_text,
    form_errors,
    render_help,
    set_customer_cookie,
)

router = APIRouter(prefix="/help", include_in_schema=False)
CsrfField = Annotated[str, Form(max_length=100)]


def _senders(request: Request) -> Senders:
    senders: Senders = get_senders(request)
    return senders


def my_cases_of(db: DbSession, found: HelpCustomer | None, lang: Lang) -> list[CaseSummary]:
    if found is None:
        return []
    return tracking.my_cases(db, customer_id=found.customer.id, lang=lang, limit=20)


def track_page(
    request: Request,
    db: DbSession,
    found: HelpCustomer | None,
    lang: Lang,
    *,
    reference: str = "",
    contact: str = "",
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    return render_help(
        request,
        "help/track.html",
        {
            "reference": reference,
            "contact": contact,
            "error": error,
            "notice": notice,
            "my_cases": my_cases_of(db, found, lang),
        },
        status_code=status_code,
    )


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


def _code_page(
    request: Request,
    settings: Settings,
    *,
    reference: str,
    verification_id: str,
    destination: str,
    sent: CodeSent | None = None,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    return code_page(
        request,
        settings,
        action="/help/track",
        fields={"reference": reference},
        submit="help.code.submit",
        verification_id=verification_id,
        destination=destination,
        sent=sent,
        error=error,
        notice=notice,
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


@router.get("/track")
def track_form(
    request: Request,
    db: DbSession,
    lang: LangDep,
    found: MaybeCustomer,
    ref: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    return track_page(request, db, found, lang, reference=ref)


@router.post("/track")
def start_tracking(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    lang: LangDep,
    found: MaybeCustomer,
    csrf_token: CsrfField = "",
    reference: Annotated[str, Form(max_length=64)] = "",
    contact: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    try:
        canonical = refs.canonical(reference)
    except InvalidInput as exc:
        return track_page(
            request,
            db,
            found,
            lang,
            reference=reference,
            contact=contact,
            error=error_text(exc, lang),
            status_code=422,
        )
    if found is not None:  # already verified in this browser: no second code for their own
        try:
            cases_service.get_customer_case(db, customer_id=found.customer.id, reference=canonical)
            return RedirectResponse(f"/help/cases/{canonical}", status_code=303)
        except CaseNotFound:
            pass
    with form_errors(db, lang) as refused:
        sent = send_code(request, db, settings, contact)
    if refused:
        return track_page(
            request,
            db,
            found,
            lang,
            reference=canonical,
            contact=contact,
            error=refused.text,
            status_code=refused.status,
        )
    db.commit()
    return _code_page(
        request,
        settings,
        reference=canonical,
        verification_id=sent.verification.public_id,
        destination=sent.verification.destination_masked,
        sent=sent,
    )


@router.post("/track/resend")
def resend_code(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    lang: LangDep,
    csrf_token: CsrfField = "",
    reference: Annotated[str, Form(max_length=64)] = "",
    verification_id: Annotated[str, Form(max_length=32)] = "",
    destination: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    sent: CodeSent | None = None
    with form_errors(db, lang) as refused:
        sent = otp.resend_code(
            db, verification_public_id=verification_id, settings=settings, senders=_senders(request)
        )
    if not refused:
        db.commit()
    return _code_page(
        request,
        settings,
        reference=reference,
        verification_id=verification_id,
        destination=destination,
        sent=sent,
        error=refused.text or None,
        notice="help.code.resent" if sent else None,
        status_code=refused.status,
    )


@router.post("/track/confirm")
def confirm_code(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    lang: LangDep,
    found: MaybeCustomer,
    csrf_token: CsrfField = "",
    reference: Annotated[str, Form(max_length=64)] = "",
    verification_id: Annotated[str, Form(max_length=32)] = "",
    destination: Annotated[str, Form(max_length=254)] = "",
    code: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    return confirm_and_sign_in(
        request,
        db,
        settings,
        lang,
        verification_id=verification_id,
        code=code,
        to=f"/help/cases/{reference}",
        retry=lambda error, status: _code_page(
            request,
            settings,
            reference=reference,
            verification_id=verification_id,
            destination=destination,
            error=error,
            status_code=status,
        ),
        restart=lambda error, status: track_page(
            request, db, found, lang, reference=reference, error=error, status_code=status
        ),
    )
