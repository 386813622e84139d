"""Case tracking on the help center, up to the case page: a reference and a phone number
or e-mail address, then a one-time code.

The code goes to the contact given, whoever's it is, exactly as ``/api/v1/verifications``
does, so the form never reveals whether a reference or a contact exists; only after the
code is confirmed does the case show (``kefu.cases.customer_pages``), and only if it is the
verified customer's own.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from kefu.cases import refs, tracking
from kefu.cases import service as cases_service
from kefu.cases.errors import CaseNotFound
from kefu.cases.schemas import CaseSummary
from kefu.config import Settings
from kefu.db import DbSession
from kefu.deps import LangDep, SettingsDep
from kefu.errors import InvalidInput
from kefu.i18n import Lang
from kefu.identity.otp import CodeSent
from kefu.web.code_step import (
    CsrfField,
    code_page,
    confirm_and_sign_in,
    resend,
    send_code,
)
from kefu.web.forms import (
    HelpCustomer,
    MaybeCustomer,
    check_csrf,
    error_text,
    form_errors,
    render_help,
)

router = APIRouter(prefix="/help", include_in_schema=False)


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

    def page(
        *,
        sent: CodeSent | None = None,
        error: str | None = None,
        notice: str | None = None,
        status_code: int = 200,
    ) -> Response:
        return _code_page(
            request,
            settings,
            reference=reference,
            verification_id=verification_id,
            destination=destination,
            sent=sent,
            error=error,
            notice=notice,
            status_code=status_code,
        )

    return resend(request, db, settings, lang, verification_id=verification_id, page=page)


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
