"""Anti-fraud on the help center: "report a suspicious number, site or account" (anyone,
with screenshots) and "is someone from you calling me right now?" (a customer verified
with a one-time code, the same cookie as case tracking).

Both go through ``kefu.antifraud.service`` with the public API's rules: a report counts
against the same per-address hourly limit as ``POST /api/v1/antifraud/reports`` and its
screenshots get the same checks; the call answer is ``confirm_call`` for the verified
customer only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from kefu import ratelimit
from kefu.antifraud import lookups, reports
from kefu.antifraud import service as antifraud_service
from kefu.antifraud.channel_view import ChannelRow, channel_groups
from kefu.antifraud.errors import EmptyValue
from kefu.antifraud.reports import ReportReceipt
from kefu.cases.errors import AttachmentTooLarge, AttachmentTypeRefused
from kefu.config import Settings
from kefu.db import DbSession, utcnow
from kefu.deps import SettingsDep
from kefu.errors import (
    InvalidInput,
    KefuError,
    TooManyRequests,
)
from kefu.i18n import Lang, translate
from kefu.identity.otp import CodeSent
from kefu.storage import Storage
from kefu.web.code_step import (
    CsrfField,
    code_page,
    confirm_and_sign_in,
    resend,
    send_code,
)
from kefu.web.forms import (
    CaseViewer,
    HelpCustomer,
    MaybeCustomer,
    Reason,
    check_csrf,
    error_text,
    form_errors,
    render_help,
)

router = APIRouter(prefix="/help", include_in_schema=False)

CALLS_PATH = "/help/calling-me"
VALUE_MAX = 4096  # as the API: longer values reach the service and get its reason
NUMBER_MAX = 64
DescriptionField = Annotated[str, Form(max_length=reports.MAX_DESCRIPTION * 2)]

# Errors whose general text does not fit a report form; the rest keep their own.
_REPORT_TEXTS: dict[type[KefuError], str] = {
    EmptyValue: "help.report.error.empty",
    AttachmentTypeRefused: "help.report.error.screenshot_type",
}


def _lang(request: Request) -> Lang:
    """The page language, read after ``help_customer`` has had its say (a verified
    customer's own language unless they picked one)."""
    lang: Lang = request.state.lang
    return lang


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


def _hotline(db: DbSession, lang: Lang) -> ChannelRow | None:
    """The first official hotline, to tell people to call us themselves."""
    for group, rows in channel_groups(antifraud_service.contact_channels(db), lang):
        if group == "hotline":
            return rows[0]
    return None


# --- report a suspicious number, site or account --------------------------------------


def _report_form(
    request: Request,
    db: DbSession,
    settings: Settings,
    *,
    value: str = "",
    description: str = "",
    error: str | None = None,
    error_field: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    response = render_help(
        request,
        "help/report.html",
        {
            "value": value,
            "description": description,
            "error": error,
            "error_field": error_field,
            "max_files": reports.MAX_SCREENSHOTS,
            "max_description": reports.MAX_DESCRIPTION,
            "max_mb": round(settings.attachment_max_bytes / 1024 / 1024),
            "hotline": _hotline(db, _lang(request)),
        },
        status_code=status_code,
    )
    response.headers.update(headers or {})
    return response


def _report_reason(files: int) -> Reason:
    """The reason in words that fit the form (the service's checks, the page's wording) for
    a report sent with ``files`` screenshots."""

    def reason(exc: KefuError, lang: Lang) -> str:
        field = exc.params.get("field")
        key = _REPORT_TEXTS.get(type(exc))
        if key is not None:
            return translate(key, lang)
        if type(exc) is InvalidInput and field == "screenshots":
            if files > reports.MAX_SCREENSHOTS:
                return translate("help.report.error.too_many", lang, max=reports.MAX_SCREENSHOTS)
            return translate("help.report.error.screenshot_empty", lang)
        if type(exc) is InvalidInput and field == "description":
            return translate("help.report.error.description", lang, max=reports.MAX_DESCRIPTION)
        return error_text(exc, lang)

    return reason


@router.get("/report")
def report_form(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    value: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    """The form, with ``value`` filled in when the visitor comes from a verdict."""
    return _report_form(request, db, settings, value=value.strip())


@router.post("/report")
async def submit_report(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    found: MaybeCustomer,
    csrf_token: CsrfField = "",
    value: Annotated[str, Form(max_length=VALUE_MAX)] = "",
    description: DescriptionField = "",
    screenshots: list[UploadFile] | None = None,
) -> Response:
    check_csrf(request, csrf_token)
    # enough to refuse too many, without reading them all (a file field left empty never
    # arrives: the form parser drops a part with no file name)
    uploads = (screenshots or [])[: reports.MAX_SCREENSHOTS + 1]
    shots = [
        reports.Screenshot(
            filename=upload.filename or "",
            data=await upload.read(settings.attachment_max_bytes + 1),
        )
        for upload in uploads
    ]
    lang = _lang(request)
    client = _client(request)

    def record() -> Response:  # database work stays off the event loop
        try:
            ratelimit.hit(
                db,
                bucket="antifraud.report",  # one limit with the API: neither path gets around it
                key=client,
                limit=settings.antifraud_reports_per_hour,
                window_seconds=3600,
                secret=settings.secret_key,
            )
        except TooManyRequests as exc:
            db.rollback()
            return _report_form(
                request,
                db,
                settings,
                value=value,
                description=description,
                error=error_text(exc, lang),
                status_code=exc.status,
                headers={"Retry-After": str(exc.retry_after)},
            )
        db.commit()  # a refused report still counts against the limit
        with form_errors(db, lang, reason=_report_reason(len(shots))) as refused:
            receipt = antifraud_service.submit_report(
                db,
                value=value,
                description=description,
                lang=lang,
                settings=settings,
                storage=_storage(request),
                client_hash=lookups.client_digest(settings.secret_key, f"ip:{client}"),
                customer_id=found.customer.id if found else None,
                screenshots=shots,
            )
        if refused:
            # a screenshot the service refused is about the screenshots field
            bad_file = isinstance(refused.error, AttachmentTooLarge | AttachmentTypeRefused)
            return _report_form(
                request,
                db,
                settings,
                value=value,
                description=description,
                error=refused.text,
                error_field="screenshots" if bad_file else refused.field,
                status_code=refused.status,
            )
        db.commit()
        return _thanks(request, db, receipt, value, lang)

    return await run_in_threadpool(record)


def _thanks(
    request: Request, db: DbSession, receipt: ReportReceipt, value: str, lang: Lang
) -> Response:
    """What happens next. An official value is said to be ours: its caller ID or sender
    name was most likely forged, and the reporter should call us back themselves."""
    verdict = antifraud_service.check_value(db, value, lang=lang)  # not counted as a look-up
    return render_help(
        request,
        "help/report_thanks.html",
        {
            "receipt": receipt,
            "received": translate("antifraud.report.received", lang, count=receipt.report_count),
            "official": verdict.verdict == "official",
            "hotline": _hotline(db, lang),
        },
        status_code=201,
    )


# --- is someone from you calling me? ---------------------------------------------------


def _start_page(
    request: Request,
    db: DbSession,
    *,
    contact: str = "",
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    return render_help(
        request,
        "help/calls_start.html",
        {
            "contact": contact,
            "error": error,
            "notice": notice,
            "hotline": _hotline(db, _lang(request)),
        },
        status_code=status_code,
    )


def _code_page(
    request: Request,
    settings: Settings,
    *,
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
        action=CALLS_PATH,
        fields={},
        submit="help.calls.code_submit",
        verification_id=verification_id,
        destination=destination,
        sent=sent,
        error=error,
        notice=notice,
        caution="help.calls.code_caution",
        status_code=status_code,
    )


def _answer_page(
    request: Request, db: DbSession, settings: Settings, found: HelpCustomer, number: str
) -> Response:
    lang = _lang(request)
    now = utcnow()
    answer = antifraud_service.confirm_call(
        db, found.customer.id, lang=lang, number=number or None, now=now, settings=settings
    )
    response = render_help(
        request,
        "help/calls.html",
        {
            "answer": answer,
            "call": answer.calls[0] if answer.calls else None,
            "number": number,
            "checked_at": now,
            "customer_name": found.customer.name,
            "hotline": _hotline(db, lang),
        },
    )
    response.headers["Cache-Control"] = "no-store"  # a live answer, about this customer
    return response


@router.get("/calling-me")
def calling_me(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    found: CaseViewer,
    number: Annotated[str, Query(max_length=NUMBER_MAX)] = "",
) -> Response:
    """The verified customer's answer, checked against the number on their screen when
    given; anyone else is asked to verify first (HTTP 401)."""
    if found is None:
        return _start_page(request, db, notice="help.calls.verify_first", status_code=401)
    return _answer_page(request, db, settings, found, number.strip())


@router.post("/calling-me/code")
def start_verification(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    found: MaybeCustomer,
    csrf_token: CsrfField = "",
    contact: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    if found is not None:  # already verified in this browser: straight to the answer
        return RedirectResponse(CALLS_PATH, status_code=303)
    with form_errors(db, _lang(request)) as refused:
        sent = send_code(request, db, settings, contact)
    if refused:
        return _start_page(
            request, db, contact=contact, error=refused.text, status_code=refused.status
        )
    db.commit()
    return _code_page(
        request,
        settings,
        verification_id=sent.verification.public_id,
        destination=sent.verification.destination_masked,
        sent=sent,
    )


@router.post("/calling-me/resend")
def resend_code(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    csrf_token: CsrfField = "",
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
            verification_id=verification_id,
            destination=destination,
            sent=sent,
            error=error,
            notice=notice,
            status_code=status_code,
        )

    return resend(request, db, settings, _lang(request), verification_id=verification_id, page=page)


@router.post("/calling-me/confirm")
def confirm_code(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    csrf_token: CsrfField = "",
    verification_id: Annotated[str, Form(max_length=32)] = "",
    destination: Annotated[str, Form(max_length=254)] = "",
    code: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    return confirm_and_sign_in(
        request,
        db,
        settings,
        _lang(request),
        verification_id=verification_id,
        code=code,
        to=CALLS_PATH,
        retry=lambda error, status: _code_page(
            request,
            settings,
            verification_id=verification_id,
            destination=destination,
            error=error,
            status_code=status,
        ),
        restart=lambda error, status: _start_page(request, db, error=error, status_code=status),
    )
