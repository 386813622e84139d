"""The customer's case page on the help center: status, committed time, public timeline,
reply and attachments, for the verified customer's own cases only (``kefu.cases.tracking_pages``
is the way in)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from kefu import audit
from kefu.cases import attachments, conversation, tracking
from kefu.cases import service as cases_service
from kefu.cases.errors import CaseNotFound
from kefu.cases.tracking_pages import my_cases_of, track_page
from kefu.config import Settings
from kefu.db import DbSession
from kefu.deps import LangDep, SettingsDep
from kefu.errors import InvalidInput
from kefu.i18n import Lang
from kefu.identity import service as identity_service
from kefu.storage import Storage
from kefu.web.code_step import CsrfField
from kefu.web.forms import (
    CaseViewer,
    HelpCustomer,
    VerifiedCustomer,
    check_csrf,
    clear_customer_cookie,
    error_text,
    form_errors,
    render_help,
)

router = APIRouter(prefix="/help", include_in_schema=False)
Reference = Annotated[str, Path(min_length=1, max_length=64)]


def _case_page(
    request: Request,
    db: DbSession,
    settings: Settings,
    lang: Lang,
    found: HelpCustomer,
    reference: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    case = cases_service.get_customer_case(db, customer_id=found.customer.id, reference=reference)
    view = tracking.track(
        db, customer_id=found.customer.id, reference=case.reference, settings=settings, lang=lang
    )
    return render_help(
        request,
        "help/case.html",
        {
            "case": view,
            "attachments": attachments.public_attachments(db, case),
            "my_cases": [c for c in my_cases_of(db, found, lang) if c.reference != case.reference],
            "customer_name": found.customer.name,
            "max_mb": round(settings.attachment_max_bytes / 1024 / 1024),
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/cases/{reference}")
def case_page(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    lang: LangDep,
    found: CaseViewer,
    reference: Reference,
) -> Response:
    if found is None:
        return track_page(
            request,
            db,
            found,
            lang,
            reference=reference,
            notice="help.track.verify_first",
            status_code=401,
        )
    try:
        return _case_page(request, db, settings, lang, found, reference)
    except (CaseNotFound, InvalidInput) as exc:
        return track_page(
            request,
            db,
            found,
            lang,
            reference=reference,
            error=error_text(exc, lang),
            status_code=exc.status,
        )


@router.post("/cases/{reference}/messages")
def reply(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    lang: LangDep,
    found: VerifiedCustomer,
    reference: Reference,
    csrf_token: CsrfField = "",
    body: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    case = cases_service.get_customer_case(db, customer_id=found.customer.id, reference=reference)
    with form_errors(db, lang, catch=InvalidInput) as refused:
        landed = conversation.customer_message(
            db, case, body=body, channel="web", settings=settings
        )
    if refused:
        return _case_page(
            request,
            db,
            settings,
            lang,
            found,
            reference,
            error=refused.text,
            status_code=refused.status,
        )
    db.commit()
    return RedirectResponse(f"/help/cases/{landed.reference}#timeline", status_code=303)


def _storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


@router.post("/cases/{reference}/attachments")
async def upload(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    lang: LangDep,
    found: VerifiedCustomer,
    reference: Reference,
    file: UploadFile,
    csrf_token: CsrfField = "",
) -> Response:
    # read one byte past the limit: enough to refuse, never the whole of a huge upload
    data = await file.read(settings.attachment_max_bytes + 1)

    def store() -> Response:  # database work stays off the event loop
        check_csrf(request, csrf_token)
        case = cases_service.get_customer_case(
            db, customer_id=found.customer.id, reference=reference
        )
        with form_errors(db, lang) as refused:
            attachments.add_attachment(
                db,
                case,
                filename=file.filename or "",
                data=data,
                actor=audit.Actor(name=f"customer:{found.customer.id}", role="customer"),
                settings=settings,
                storage=_storage(request),
            )
        if refused:
            return _case_page(
                request,
                db,
                settings,
                lang,
                found,
                reference,
                error=refused.text,
                status_code=refused.status,
            )
        db.commit()
        return RedirectResponse(f"/help/cases/{case.reference}#attachments", status_code=303)

    return await run_in_threadpool(store)


@router.get("/cases/{reference}/attachments/{attachment_id}")
def download(
    request: Request,
    db: DbSession,
    found: VerifiedCustomer,
    reference: Reference,
    attachment_id: Annotated[str, Path(max_length=32)],
) -> Response:
    case = cases_service.get_customer_case(db, customer_id=found.customer.id, reference=reference)
    row = next(
        (a for a in attachments.public_attachments(db, case) if a.public_id == attachment_id),
        None,
    )
    if row is None:
        raise CaseNotFound("no such attachment", reference=case.reference)
    return Response(
        _storage(request).get(row.storage_key),
        media_type=row.content_type,
        headers={"Content-Disposition": f'attachment; filename="{row.public_id}"'},
    )


@router.post("/signout")
def sign_out(
    request: Request, db: DbSession, found: VerifiedCustomer, csrf_token: CsrfField = ""
) -> Response:
    check_csrf(request, csrf_token)
    identity_service.revoke_token(db, found.token)
    db.commit()
    response = RedirectResponse("/help", status_code=303)
    clear_customer_cookie(response)
    return response
