"""The agent's case workspace in the console (工单工作台): the case views, the search box,
and the case page with every action on a case.

Each form posts the case's version token (``work.version_of``); a case someone changed
after the form was drawn answers with its current state, a conflict message and the text
the agent typed still in the form. Every form's domain error comes back the same way,
through ``_act`` and ``kefu.web.forms.form_errors``: the page again, the reason beside
the form, nothing lost.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu import audit
from kefu.cases import (
    attachments,
    bulk,
    case_page,
    escalation,
    finder,
    refs,
    saved_views,
    service,
    views,
    work,
)
from kefu.cases import summary as contact_summary
from kefu.cases.categories import CATEGORY_FOR_INTENT
from kefu.cases.errors import CaseNotFound
from kefu.cases.models import Case
from kefu.cases.transitions import Mover, Status
from kefu.channels.deps import get_senders
from kefu.channels.email import jobs as email_jobs
from kefu.chat import canned
from kefu.db import DbSession, utcnow
from kefu.deps import SettingsDep
from kefu.errors import InvalidInput, KefuError
from kefu.i18n import Lang, translate
from kefu.identity import service as identity_service
from kefu.identity.deps import CSRF_FIELD, StaffPrincipal, require
from kefu.masking import mask_name, mask_phone
from kefu.numbers import RowId
from kefu.wallet.deps import get_wallet
from kefu.web import forms
from kefu.web.templating import render

router = APIRouter(prefix="/console", include_in_schema=False)
Reader = Annotated[StaffPrincipal, Depends(require("case.read"))]
Writer = Annotated[StaffPrincipal, Depends(require("case.write"))]
Escalator = Annotated[StaffPrincipal, Depends(require("case.escalate"))]
Reference = Annotated[str, Path(min_length=1, max_length=64)]
Version = Annotated[str, Form(max_length=64)]
Text = Annotated[str, Form(max_length=40_000)]
Short = Annotated[str, Form(max_length=200)]


def _base(staff: StaffPrincipal) -> dict[str, Any]:
    return {
        "staff": staff.user,
        "may": staff.may,
        "csrf_token": staff.token.csrf_token,
        "csrf_field": CSRF_FIELD,
        "nav_active": "cases",
    }


def actor_of(staff: StaffPrincipal) -> audit.Actor:
    return staff.actor


def error_text(exc: KefuError, lang: Lang) -> str:
    """The reason a form was refused, as the person reads it: a too-long text says how
    long it may be, a case someone changed after the form was drawn says so."""
    maximum = exc.params.get("max")
    field = exc.params.get("field")
    if isinstance(exc, InvalidInput) and maximum is not None and field in ("body", "summary"):
        return translate("cases.form.too_long", lang, max=maximum)
    if isinstance(exc, work.StaleCase):
        return translate("cases.form.stale", lang)
    return forms.error_text(exc, lang)


@dataclass(frozen=True)
class Acted:
    """An account action just asked for on the case: done, or waiting for a supervisor
    (``approval`` is the request's number)."""

    action: str
    approval: int | None = None


@dataclass(frozen=True)
class Row:
    case: Case
    customer: str
    owner: str | None
    clock: case_page.Clock


def _rows(db: Session, cases: list[Case], lang: Lang, now: datetime) -> list[Row]:
    customers = identity_service.customers_by_id(db, {c.customer_id for c in cases})
    staff = {s.id: s.display_name for s in identity_service.list_staff(db)}
    rows = []
    for case in cases:
        customer = customers.get(case.customer_id)
        shown = (
            f"{mask_name(customer.name)} {mask_phone(customer.phone)}".strip() if customer else ""
        )
        rows.append(
            Row(
                case=case,
                customer=shown,
                owner=staff.get(case.owner_id) if case.owner_id else None,
                clock=case_page.clock(case, now, lang),
            )
        )
    return rows


def _list_params(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if k not in ("lang", "q", "done")}


@router.get("/cases")
def cases_list(
    request: Request,
    staff: Reader,
    db: DbSession,
    settings: SettingsDep,
    q: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    lang: Lang = request.state.lang
    now = utcnow()
    error = None
    try:
        query = views.parse(_list_params(request))
    except KefuError as exc:
        query, error = views.ViewQuery(), error_text(exc, lang)
    finding = finder.find(db, q) if q.strip() else None
    # a search shows its hits in place of the view's rows
    listed = (
        views.Page(cases=[], next_cursor=None)
        if finding is not None
        else views.page(db, query, me=staff.user.id, settings=settings, now=now)
    )
    context = {
        **_base(staff),
        "query": query,
        "q": q,
        "finding": finding,
        "rows": _rows(db, listed.cases, lang, now),
        "next_url": (
            "/console/cases?" + urlencode(query.params(after=listed.next_cursor))
            if listed.next_cursor
            else None
        ),
        "first_url": (
            "/console/cases?" + urlencode(query.params(after=None)) if query.after else None
        ),
        "counts": views.counts(db, me=staff.user.id, now=now),
        "views": views.VIEWS,
        "saved": saved_views.of_staff(db, staff.user.id),
        "staff_list": [s for s in identity_service.list_staff(db) if s.is_active],
        "statuses": [s.value for s in Status],
        "choices": case_page.choices_for_filters(),
        "error": error,
        "bulk_done": request.query_params.get("done"),
        "bulk_refused": request.query_params.get("refused"),
        "bulk_error": request.query_params.get("bulk_error"),
        "sort_url": lambda sort, descending: (
            "/console/cases?"
            + urlencode(query.params(sort=sort, descending=descending, after=None))
        ),
    }
    return render(request, "cases/list.html", context, status_code=400 if error else 200)


@router.get("/cases/counts")
def cases_counts(staff: Reader, db: DbSession) -> JSONResponse:
    """The navigation's badges, fetched by every console page's script."""
    return JSONResponse(views.counts(db, me=staff.user.id, now=utcnow()))


@router.post("/cases/bulk")
def cases_bulk(
    staff: Writer,
    db: DbSession,
    settings: SettingsDep,
    change: Annotated[str, Form(max_length=16)],
    owner: Annotated[str, Form(max_length=64)] = "",
    status: Annotated[str, Form(max_length=24)] = "",
    priority: Annotated[str, Form(max_length=10)] = "",
    cases: Annotated[list[str] | None, Form(max_length=64)] = None,
    back: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """One button per change (assign, status, priority), each with its own value field,
    which starts on "choose…" so a stray click changes nothing; "none" unassigns. A form
    that names no case or no value comes back to the list saying which."""
    value = {"assign": owner, "status": status, "priority": priority}.get(change, "")
    query = back if back.startswith("view=") else "view=all"
    params: dict[str, str]
    try:
        if not cases:
            raise InvalidInput("choose at least one case", field="cases")
        if not value:
            raise InvalidInput("choose the new value", field="value")
        result = bulk.apply(
            db,
            references=cases or [],
            change=change,
            value="" if change == "assign" and value == "none" else value,
            actor=actor_of(staff),
            settings=settings,
        )
    except InvalidInput as exc:
        params = {"bulk_error": "cases" if exc.params.get("field") == "cases" else "value"}
        return RedirectResponse(f"/console/cases?{query}&{urlencode(params)}", status_code=303)
    db.commit()
    params = {"done": str(len(result.changed))}
    if result.refused:
        params["refused"] = ",".join(reference for reference, _ in result.refused)
    return RedirectResponse(f"/console/cases?{query}&{urlencode(params)}", status_code=303)


@router.post("/cases/views")
def save_view(
    staff: Reader,
    db: DbSession,
    name: Annotated[str, Form(max_length=200)],
    query: Annotated[str, Form(max_length=1000)],
) -> Response:
    row = saved_views.save(db, staff_user_id=staff.user.id, name=name, query=query)
    db.commit()
    return RedirectResponse(f"/console/cases?{row.query}", status_code=303)


@router.post("/cases/views/{view_id}/delete")
def delete_view(staff: Reader, db: DbSession, view_id: Annotated[RowId, Path()]) -> Response:
    saved_views.delete(db, staff_user_id=staff.user.id, view_id=view_id)
    db.commit()
    return RedirectResponse("/console/cases", status_code=303)


def _canned(db: Session, case: Case, staff: StaffPrincipal, query: str) -> list[canned.CannedReply]:
    customer = identity_service.get_customer(db, case.customer_id)
    topic = next((i for i, c in CATEGORY_FOR_INTENT.items() if c.value == case.category), None)
    lang: Lang = "en" if case.language == "en" else "zh-CN"
    return canned.matching(
        db,
        lang=lang,
        values={
            "customer_name": customer.name,
            "agent_name": staff.user.display_name,
            **canned.case_values(case, lang),
        },
        query=query,
        topic=topic,
        staff_id=staff.user.id,
        category=case.category,
    )


def case_page_response(
    request: Request,
    db: Session,
    staff: StaffPrincipal,
    case: Case,
    *,
    form: str | None = None,
    error: str | None = None,
    kept: dict[str, str] | None = None,
    done: str | None = None,
    acted: Acted | None = None,
    canned_query: str = "",
    status_code: int = 200,
) -> Response:
    """The case page; ``form``, ``error`` and ``kept`` put a refused form's reason and
    what the agent typed back beside it, ``acted`` says how an account action ended."""
    lang: Lang = request.state.lang
    built = case_page.build(db, case, lang=lang, now=utcnow())
    panel = None
    if staff.may("wallet.read") and built["customer"].verified_contact:
        panel = case_page.account_panel(get_wallet(request, db), built["customer"])
    context = {
        **_base(staff),
        **built,
        "panel": panel,
        "account": panel.account if panel else None,
        "threshold": request.app.state.settings.approval_amount_above,
        "summary_draft": (
            contact_summary.mail_draft(db, case, settings=request.app.state.settings)
            if not built["finished"] and work.has_mail_thread(db, case)
            else None
        ),
        "new_key": lambda: secrets.token_urlsafe(18),
        "label": lambda prefix, code: case_page.label_or_code(prefix, code, lang),
        "linked_ids": {
            link.external_id
            for link in built["links"]
            if link.kind in ("transaction", "topup", "refund", "dispute")
        },
        "acted": acted if acted and _known_action(acted.action, lang) else None,
        "form": form,
        "error": error,
        "kept": kept or {},
        "done": done,
        "canned": _canned(db, case, staff, canned_query),
        "canned_query": canned_query,
    }
    return render(request, "cases/case.html", context, status_code=status_code)


def _known_action(action: str, lang: Lang) -> bool:
    """An action named in the page's address that the catalogue names (never a raw code)."""
    key = f"console.action.{action}"
    return translate(key, lang) != key


def not_found(request: Request, staff: StaffPrincipal, reference: str, exc: KefuError) -> Response:
    lang: Lang = request.state.lang
    return render(
        request,
        "cases/not_found.html",
        {**_base(staff), "reference": reference, "message": translate(exc.message_key, lang)},
        status_code=404,
    )


@router.get("/cases/{reference}")
def case_view(
    request: Request,
    staff: Reader,
    db: DbSession,
    reference: Reference,
    canned_query: Annotated[str, Query(alias="canned", max_length=100)] = "",
    done: Annotated[str, Query(max_length=24)] = "",
    action: Annotated[str, Query(max_length=24)] = "",
    approval: Annotated[RowId | None, Query()] = None,
) -> Response:
    """``done`` names the form that just succeeded; after an account action (``done=
    account``) ``action`` names it and ``approval`` the request it waits in, if any."""
    try:
        case = service.get_case(db, reference)
    except (CaseNotFound, refs.ReferenceInvalid, refs.ReferenceMistyped) as exc:
        return not_found(request, staff, reference, exc)
    if case.reference != reference:  # another spelling, or a merged duplicate's reference
        return RedirectResponse(f"/console/cases/{case.reference}", status_code=307)
    acted = Acted(action, approval) if done == "account" and action else None
    return case_page_response(
        request,
        db,
        staff,
        case,
        done=None if acted or done == "account" else (done or None),
        acted=acted,
        canned_query=canned_query,
    )


Work = Callable[[Case], list[int] | None]


def _act(
    request: Request,
    db: Session,
    staff: StaffPrincipal,
    reference: str,
    *,
    form: str,
    version: str,
    kept: dict[str, str],
    do: Work,
) -> Response:
    """Run one form's work on the case: fresh-checked, committed, mails handed to the send
    job, back to the page; or the page again with the reason and the typed text."""
    try:
        case = service.get_case(db, reference, for_update=True)
    except (CaseNotFound, refs.ReferenceInvalid, refs.ReferenceMistyped) as exc:
        return not_found(request, staff, reference, exc)
    with forms.form_errors(db, request.state.lang, reason=error_text) as refused:
        work.check_fresh(case, version)
        mails = do(case) or []
    if refused:
        return case_page_response(
            request,
            db,
            staff,
            service.get_case(db, reference),
            form=form,
            error=refused.text,
            kept=kept,
            status_code=refused.status,
        )
    db.commit()
    email_jobs.dispatch(mails)
    return RedirectResponse(f"/console/cases/{case.reference}?done={form}", status_code=303)


@router.post("/cases/{reference}/reply")
def reply(
    request: Request,
    staff: Writer,
    db: DbSession,
    settings: SettingsDep,
    reference: Reference,
    version: Version,
    body: Text,
    via: Annotated[str, Form(max_length=8)],
    then: Annotated[str, Form(max_length=24)] = "",
) -> Response:
    return _act(
        request,
        db,
        staff,
        reference,
        form="reply",
        version=version,
        kept={"body": body, "via": via, "then": then},
        do=lambda case: work.reply(
            db,
            case,
            body=body,
            via=via,
            actor=actor_of(staff),
            settings=settings,
            senders=get_senders(request),
            then=_then(then),
        ),
    )


def _then(value: str) -> Status | None:
    if value in (Status.PENDING_CUSTOMER.value, Status.PENDING_THIRD_PARTY.value):
        return Status(value)
    return None


@router.post("/cases/{reference}/note")
def note(
    request: Request,
    staff: Writer,
    db: DbSession,
    reference: Reference,
    version: Version,
    body: Text,
) -> Response:
    def do(case: Case) -> None:
        work.note(db, case, body=body, actor=actor_of(staff))

    return _act(
        request, db, staff, reference, form="note", version=version, kept={"body": body}, do=do
    )


@router.post("/cases/{reference}/claim")
def claim(
    request: Request, staff: Writer, db: DbSession, reference: Reference, version: Version
) -> Response:
    def do(case: Case) -> None:
        service.assign(db, case, owner_username=staff.user.username, actor=actor_of(staff))

    return _act(request, db, staff, reference, form="claim", version=version, kept={}, do=do)


@router.post("/cases/{reference}/assign")
def assign(
    request: Request,
    staff: Writer,
    db: DbSession,
    reference: Reference,
    version: Version,
    owner: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    def do(case: Case) -> None:
        service.assign(db, case, owner_username=owner or None, actor=actor_of(staff))

    return _act(
        request, db, staff, reference, form="assign", version=version, kept={"owner": owner}, do=do
    )


@router.post("/cases/{reference}/transfer")
def transfer(
    request: Request,
    staff: Writer,
    db: DbSession,
    reference: Reference,
    version: Version,
    tier: Annotated[str, Form(max_length=16)],
    owner: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    def do(case: Case) -> None:
        work.transfer(db, case, tier=tier, owner_username=owner or None, actor=actor_of(staff))

    kept = {"tier": tier, "owner": owner}
    return _act(request, db, staff, reference, form="transfer", version=version, kept=kept, do=do)


@router.post("/cases/{reference}/status")
def change_status(
    request: Request,
    staff: Writer,
    db: DbSession,
    settings: SettingsDep,
    reference: Reference,
    version: Version,
    status: Annotated[str, Form(max_length=24)],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    def do(case: Case) -> None:
        try:
            target = Status(status)
        except ValueError:
            raise InvalidInput(f"unknown status {status!r}", field="status") from None
        service.move(
            db,
            case,
            target=target,
            mover=Mover.STAFF,
            actor=actor_of(staff),
            settings=settings,
            now=utcnow(),
            reason=reason.strip() or None,
        )

    kept = {"status": status, "reason": reason}
    return _act(request, db, staff, reference, form="status", version=version, kept=kept, do=do)


@router.post("/cases/{reference}/update")
def update(
    request: Request,
    staff: Writer,
    db: DbSession,
    settings: SettingsDep,
    reference: Reference,
    version: Version,
    priority: Annotated[str, Form(max_length=10)] = "",
    category: Annotated[str, Form(max_length=40)] = "",
    subject: Short = "",
) -> Response:
    changes = {
        k: v
        for k, v in {"priority": priority, "category": category, "subject": subject}.items()
        if v
    }

    def do(case: Case) -> None:
        service.update(db, case, changes=dict(changes), actor=actor_of(staff), settings=settings)

    return _act(request, db, staff, reference, form="update", version=version, kept=changes, do=do)


@router.post("/cases/{reference}/escalate")
def escalate(
    request: Request,
    staff: Escalator,
    db: DbSession,
    reference: Reference,
    version: Version,
    tier: Annotated[str, Form(max_length=16)],
    reason: Annotated[str, Form(max_length=2000)] = "",
    owner: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    def do(case: Case) -> None:
        escalation.escalate(
            db,
            case,
            to_tier=tier,
            reason=reason,
            owner_username=owner or None,
            actor=actor_of(staff),
        )

    kept = {"tier": tier, "reason": reason, "owner": owner}
    return _act(request, db, staff, reference, form="escalate", version=version, kept=kept, do=do)


@router.post("/cases/{reference}/link")
def link(
    request: Request,
    staff: Writer,
    db: DbSession,
    reference: Reference,
    version: Version,
    kind: Annotated[str, Form(max_length=16)],
    external_id: Annotated[str, Form(max_length=64)],
) -> Response:
    def do(case: Case) -> None:
        service.link(
            db, case, kind=kind, external_id=external_id, actor=actor_of(staff), now=utcnow()
        )

    kept = {"kind": kind, "external_id": external_id}
    return _act(request, db, staff, reference, form="link", version=version, kept=kept, do=do)


@router.post("/cases/{reference}/merge")
def merge(
    request: Request,
    staff: Writer,
    db: DbSession,
    reference: Reference,
    version: Version,
    duplicate: Annotated[str, Form(max_length=64)],
) -> Response:
    def do(case: Case) -> None:
        other = service.get_case(db, duplicate, for_update=True)
        work.merge(db, other, into=case, actor=actor_of(staff))

    kept = {"duplicate": duplicate}
    return _act(request, db, staff, reference, form="merge", version=version, kept=kept, do=do)


@router.post("/cases/{reference}/resolve")
def resolve(
    request: Request,
    staff: Writer,
    db: DbSession,
    settings: SettingsDep,
    reference: Reference,
    version: Version,
    resolution_code: Annotated[str, Form(max_length=24)],
    summary: Text,
) -> Response:
    def do(case: Case) -> list[int]:
        return work.resolve(
            db,
            case,
            code=resolution_code,
            summary=summary,
            actor=actor_of(staff),
            settings=settings,
            senders=get_senders(request),
        )

    kept = {"resolution_code": resolution_code, "summary": summary}
    return _act(request, db, staff, reference, form="resolve", version=version, kept=kept, do=do)


@router.post("/cases/{reference}/close")
def close(
    request: Request,
    staff: Writer,
    db: DbSession,
    settings: SettingsDep,
    reference: Reference,
    version: Version,
) -> Response:
    def do(case: Case) -> None:
        service.move(
            db,
            case,
            target=Status.CLOSED,
            mover=Mover.STAFF,
            actor=actor_of(staff),
            settings=settings,
            now=utcnow(),
        )

    return _act(request, db, staff, reference, form="close", version=version, kept={}, do=do)


@router.post("/cases/{reference}/reopen")
def reopen(
    request: Request,
    staff: Writer,
    db: DbSession,
    settings: SettingsDep,
    reference: Reference,
    version: Version,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    def do(case: Case) -> None:
        work.reopen(db, case, reason=reason, actor=actor_of(staff), settings=settings)

    return _act(
        request,
        db,
        staff,
        reference,
        form="reopen",
        version=version,
        kept={"reason": reason},
        do=do,
    )


@router.post("/cases/{reference}/attachments")
async def attach(
    request: Request,
    staff: Writer,
    db: DbSession,
    settings: SettingsDep,
    reference: Reference,
    version: Version,
    file: UploadFile,
) -> Response:
    data = await file.read(settings.attachment_max_bytes + 1)
    name = file.filename or "attachment"

    def do(case: Case) -> None:
        attachments.add_attachment(
            db,
            case,
            filename=name,
            data=data,
            actor=actor_of(staff),
            settings=settings,
            storage=request.app.state.storage,
        )

    return _act(request, db, staff, reference, form="attach", version=version, kept={}, do=do)


@router.get("/cases/{reference}/attachments/{public_id}")
def attachment_file(
    request: Request,
    staff: Reader,
    db: DbSession,
    reference: Reference,
    public_id: Annotated[str, Path(min_length=1, max_length=32)],
) -> Response:
    """Staff see every attachment of the case, shown inline for the previews."""
    case = service.get_case(db, reference)
    row = attachments.get_attachment(db, case, public_id)
    # inline for the previews; never sniffed, and sandboxed should a PDF carry script
    return Response(
        request.app.state.storage.get(row.storage_key),
        media_type=row.content_type,
        headers={
            "Content-Disposition": f'inline; filename="{row.public_id}"',
            "Cache-Control": "private, max-age=3600",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
