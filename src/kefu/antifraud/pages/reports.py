"""The scam-report review queue: reports customers sent, a report with its screenshots and
what the registry says about its value, and the reviewer's decision."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu import paging
from kefu.antifraud import reports, service
from kefu.antifraud.pages.common import (
    PAGE_SIZE,
    FormData,
    ReportId,
    Reviewer,
    actor_of,
    base,
    reason_of,
)
from kefu.db import DbSession
from kefu.errors import Conflict, InvalidInput
from kefu.i18n import Lang, translate
from kefu.identity.deps import StaffPrincipal
from kefu.numbers import RowId
from kefu.storage import Storage
from kefu.web.forms import form_errors
from kefu.web.templating import render

router = APIRouter(prefix="/console/antifraud", include_in_schema=False)


@router.get("/reports")
def reports_page(
    request: Request,
    staff: Reviewer,
    db: DbSession,
    status: Annotated[str, Query(max_length=12)] = "pending",
    after: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    chosen = status if status in ("pending", "confirmed", "rejected") else "pending"
    read, total = service.list_reports(db, status=chosen, limit=PAGE_SIZE + 1, after=after)
    rows, next_cursor = reports.LIST_ORDER.cut(read, PAGE_SIZE)
    return render(
        request,
        "antifraud/reports.html",
        {
            **base(staff, "reports"),
            "reports": rows,
            "total": total,
            "status": chosen,
            **paging.pager_links(request, after, next_cursor),
        },
    )


def _report_page(
    request: Request,
    staff: StaffPrincipal,
    db: Session,
    report_id: int,
    *,
    form: dict[str, str] | None = None,
    error: str | None = None,
    reviewed: bool = False,
    status_code: int = 200,
) -> Response:
    lang: Lang = request.state.lang
    report = service.get_report(db, report_id)
    try:
        verdict = service.check_value(db, report.value, lang=lang)
    except InvalidInput:
        verdict = None
    return render(
        request,
        "antifraud/report.html",
        {
            **base(staff, "reports"),
            "report": report,
            "items": service.report_items(db, report),
            "verdict": verdict,
            "form": form or {},
            "error": error,
            "reviewed": reviewed,
        },
        status_code=status_code,
    )


@router.get("/reports/{report_id}")
def report_page(
    request: Request,
    staff: Reviewer,
    db: DbSession,
    report_id: ReportId,
    reviewed: Annotated[RowId | None, Query()] = None,
) -> Response:
    return _report_page(request, staff, db, report_id, reviewed=reviewed is not None)


def _storage(request: Request) -> Storage:
    built: Storage = request.app.state.storage
    return built


@router.get("/reports/{report_id}/screenshots/{public_id}")
def report_screenshot(
    request: Request,
    _: Reviewer,
    db: DbSession,
    report_id: ReportId,
    public_id: Annotated[str, Path(max_length=32)],
) -> Response:
    """A report's screenshot, for staff only: never cached, never run as a page."""
    row = service.report_screenshot(db, service.get_report(db, report_id), public_id)
    return Response(
        _storage(request).get(row.storage_key),
        media_type=row.content_type,
        headers={
            "Cache-Control": "private, no-store",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Content-Disposition": f'inline; filename="{row.public_id}"',
        },
    )


def _review_conflict(db: Session, report_id: int, lang: Lang) -> str:
    """Why the service refused the decision: the report was decided meanwhile, or it names
    one of our own channels (not a scam)."""
    report = service.get_report(db, report_id)
    if report.status != "pending":
        return translate(
            "antifraud.web.error.already_reviewed",
            lang,
            who=(report.reviewed_by or "").removeprefix("staff:"),
            status=translate(f"antifraud.web.report_status.{report.status}", lang),
        )
    return translate("antifraud.web.error.official_not_scam", lang)


@router.post("/reports/{report_id}/review")
def review_report(
    request: Request, staff: Reviewer, db: DbSession, report_id: ReportId, form: FormData
) -> Response:
    lang: Lang = request.state.lang
    decision = form.get("decision", "")
    note = form.get("note", "").strip()
    if decision not in ("confirm", "reject"):
        message = translate("antifraud.web.error.decision", lang)
        return _report_page(
            request, staff, db, report_id, form=form, error=message, status_code=400
        )
    if decision == "reject" and not note:
        message = translate("antifraud.web.error.reject_reason", lang)
        return _report_page(
            request, staff, db, report_id, form=form, error=message, status_code=400
        )
    with form_errors(db, lang, reason=reason_of) as refused:
        service.review_report(
            db,
            report_id,
            decision="confirm" if decision == "confirm" else "reject",
            note=note,
            label_zh=form.get("label_zh", "").strip(),
            label_en=form.get("label_en", "").strip(),
            actor=actor_of(staff),
        )
    if refused:
        message = (
            _review_conflict(db, report_id, lang)
            if isinstance(refused.error, Conflict)
            else refused.text
        )
        return _report_page(
            request, staff, db, report_id, form=form, error=message, status_code=refused.status
        )
    db.commit()
    return RedirectResponse(f"/console/antifraud/reports/{report_id}?reviewed=1", status_code=303)
