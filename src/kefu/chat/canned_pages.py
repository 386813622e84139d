"""Canned replies in the console: every agent keeps their own, admins keep the shared
ones; both languages side by side, categories, variables, how often each was used. The
reply boxes (chat, case page) offer them through ``chat.canned.matching`` and count an
insert here."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from kefu import audit
from kefu.chat import saved_replies
from kefu.chat.canned_models import SavedReply
from kefu.db import DbSession
from kefu.errors import KefuError, PermissionDenied
from kefu.i18n import Lang, translate
from kefu.identity.deps import CSRF_FIELD, StaffPrincipal, require
from kefu.numbers import RowId
from kefu.web.forms import error_text, form_errors
from kefu.web.templating import render

router = APIRouter(prefix="/console/canned", include_in_schema=False)
Staff = Annotated[StaffPrincipal, Depends(require("console.use"))]
ReplyId = Annotated[RowId, Path()]
_FIELDS = ("category", "title_zh", "body_zh", "title_en", "body_en")


async def form_data(request: Request) -> dict[str, str]:
    form = await request.form()
    return {name: value for name, value in form.items() if isinstance(value, str)}


FormData = Annotated[dict[str, str], Depends(form_data)]


def _actor(staff: StaffPrincipal) -> audit.Actor:
    return staff.actor


def _text(form: dict[str, str]) -> saved_replies.ReplyText:
    return saved_replies.ReplyText(**{name: form.get(name, "") for name in _FIELDS})


def _reason(exc: KefuError, lang: Lang) -> str:
    """What the page says about a refusal (beside the field it names)."""
    field = str(exc.params.get("field") or "")
    if exc.code == "invalid_input" and "variable" in exc.params:
        return translate("canned.invalid.variable", lang, variable=exc.params["variable"])
    if exc.code == "invalid_input" and field:
        return translate(f"canned.invalid.{field.rsplit('_', 1)[0]}", lang, **exc.params)
    return error_text(exc, lang)


def _page(
    request: Request,
    staff: StaffPrincipal,
    db: DbSession,
    *,
    form: dict[str, str] | None = None,
    editing: SavedReply | None = None,
    error: tuple[str | None, str] | None = None,
    category: str = "",
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "staff": staff.user,
        "may": staff.may,
        "csrf_token": staff.token.csrf_token,
        "csrf_field": CSRF_FIELD,
        "nav_active": "canned",
        "replies": saved_replies.visible(db, staff_id=staff.user.id, category=category or None),
        "categories": saved_replies.CATEGORIES,
        "category": category,
        "form": form or {"category": saved_replies.GENERAL, "scope": "mine"},
        "editing": editing,
        "error_field": error[0] if error else None,
        "error": error[1] if error else None,
        "notice": request.query_params.get("saved"),
    }
    return render(request, "canned/page.html", context, status_code=status_code)


@router.get("")
def canned_page(
    request: Request,
    staff: Staff,
    db: DbSession,
    category: Annotated[str, Query(max_length=40)] = "",
    edit: Annotated[RowId | None, Query()] = None,
) -> Response:
    category = category if category in saved_replies.CATEGORIES else ""
    editing = None
    form = None
    if edit is not None:
        editing = saved_replies.get(db, edit)
        saved_replies.editable(
            editing, staff_id=staff.user.id, may_share=staff.may("canned.manage")
        )
        form = {name: getattr(editing, name) for name in _FIELDS}
        form["version"] = str(editing.version)
    return _page(request, staff, db, form=form, editing=editing, category=category)


@router.post("")
def create_reply(request: Request, staff: Staff, db: DbSession, form: FormData) -> Response:
    shared = form.get("scope") == "shared"
    with form_errors(db, request.state.lang, reason=_reason) as refused:
        if shared and not staff.may("canned.manage"):
            raise PermissionDenied()
        saved_replies.create(
            db,
            _text(form),
            owner_id=None if shared else staff.user.id,
            actor=_actor(staff),
        )
    if refused:
        error = (refused.field, refused.text)
        return _page(request, staff, db, form=form, error=error, status_code=refused.status)
    db.commit()
    return RedirectResponse("/console/canned?saved=created", status_code=303)


def _version(form: dict[str, str]) -> int:
    raw = form.get("version", "")
    return int(raw) if raw.isdigit() else -1


@router.post("/{reply_id}")
def update_reply(
    request: Request, reply_id: ReplyId, staff: Staff, db: DbSession, form: FormData
) -> Response:
    reply = saved_replies.get(db, reply_id)
    saved_replies.editable(reply, staff_id=staff.user.id, may_share=staff.may("canned.manage"))
    with form_errors(db, request.state.lang, reason=_reason) as refused:
        saved_replies.update_reply(
            db, reply, _text(form), expected_version=_version(form), actor=_actor(staff)
        )
    if refused:
        current = saved_replies.get(db, reply_id)
        if isinstance(refused.error, saved_replies.StaleReply):
            form = {**form, "version": str(current.version)}
        error = (refused.field, refused.text)
        return _page(
            request, staff, db, form=form, editing=current, error=error, status_code=refused.status
        )
    db.commit()
    return RedirectResponse("/console/canned?saved=updated", status_code=303)


@router.post("/{reply_id}/retire")
def retire_reply(
    request: Request, reply_id: ReplyId, staff: Staff, db: DbSession, form: FormData
) -> Response:
    reply = saved_replies.get(db, reply_id)
    saved_replies.editable(reply, staff_id=staff.user.id, may_share=staff.may("canned.manage"))
    with form_errors(
        db, request.state.lang, reason=_reason, catch=saved_replies.StaleReply
    ) as refused:
        saved_replies.retire(db, reply, expected_version=_version(form), actor=_actor(staff))
    if refused:
        error = (refused.field, refused.text)
        return _page(request, staff, db, error=error, status_code=refused.status)
    db.commit()
    return RedirectResponse("/console/canned?saved=retired", status_code=303)


@router.post("/{reply_id}/used", status_code=204)
def used(reply_id: ReplyId, staff: Staff, db: DbSession) -> Response:
    """A reply box inserted this reply: one more use."""
    saved_replies.record_use(db, reply_id=reply_id, staff_id=staff.user.id)
    db.commit()
    return Response(status_code=204)
