"""The phone menu (电话菜单) in the console, for admins: the published version, every
version with who published it, and the draft: read as a tree, each node edited in a form
(texts in both languages, keys and where they lead), the whole tree edited as JSON; tried
in the phone simulator, published, or an earlier version rolled back to.

The node forms cover what changes most (texts, keys, targets); adding or removing nodes,
self-service steps and queues go through the JSON, with the same checks naming the node and
key. A refused form is drawn again with what was typed and every reason; nothing is saved.
Each form carries the draft's version, so an edit made on a stale copy is refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from kefu.db import DbSession
from kefu.deps import SettingsDep
from kefu.errors import InvalidInput, KefuError, NotFound
from kefu.i18n import LANGUAGES, Lang, translate
from kefu.identity import service as identity_service
from kefu.identity.deps import CSRF_FIELD, StaffPrincipal, require
from kefu.numbers import RowId
from kefu.voice import menu, menu_drafts
from kefu.voice.menu import ACTIONS, Finding
from kefu.voice.signatures import public_base
from kefu.voice.simulator import Phone, PhoneView
from kefu.voice.simulator_routes import (
    DEMO_CALLER,
    DEMO_HOTLINE,
    CallIn,
    StepIn,
    play,
    poster,
    with_voice,
)
from kefu.web.forms import error_text
from kefu.web.templating import render

router = APIRouter(prefix="/console/phone-menu", include_in_schema=False)
Admin = Annotated[StaffPrincipal, Depends(require("voice.menu.manage"))]
NodeId = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
MAX_TREE_CHARS = 200_000
TRY_URLS = {"calls": "/console/phone-menu/try/calls", "steps": "/console/phone-menu/try/steps"}


async def form_data(request: Request) -> dict[str, str]:
    form = await request.form()
    return {name: value for name, value in form.items() if isinstance(value, str)}


FormData = Annotated[dict[str, str], Depends(form_data)]


def namer(db: Session, lang: Lang) -> Callable[[str | None], str]:
    """Who did it, as colleagues read it: a display name (or role and username), never
    ``staff:boss``; the system and the CLI as 系统."""
    known: dict[str, str] = {}

    def name(actor: str | None) -> str:
        if not actor:
            return translate("voice.menu_admin.nobody", lang)
        if actor not in known:
            kind, _, username = actor.partition(":")
            user = identity_service.get_staff_by_username(db, username) if kind == "staff" else None
            if user is not None:
                known[actor] = user.display_name
            elif kind == "staff":
                known[actor] = f"{translate('audit.role.staff', lang)} {username}"
            else:
                known[actor] = translate("audit.actor.system", lang)
        return known[actor]

    return name


def _reasons(exc: KefuError, db: Session, lang: Lang) -> list[str]:
    if isinstance(exc, menu_drafts.MenuRefused):
        return [finding.text(lang) for finding in exc.findings]
    if isinstance(exc, menu_drafts.StaleMenu):
        who = namer(db, lang)(exc.params.get("who"))
        return [translate(exc.message_key, lang, who=who)]
    return [error_text(exc, lang)]


def _pretty(tree: dict[str, Any]) -> str:
    return json.dumps(tree, ensure_ascii=False, indent=2)


def _anchor(error_form: str | None) -> str:
    """Where on the page a refused form is."""
    if error_form is None:
        return ""
    kind, _, name = error_form.partition(":")
    return {"node": f"node-{name}", "version": f"version-{name}", "publish": "draft"}.get(
        kind, error_form
    )


def _page(
    request: Request,
    staff: StaffPrincipal,
    db: Session,
    *,
    error_form: str | None = None,
    errors: list[str] | None = None,
    kept: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    live = menu.live(db)
    draft = menu_drafts.current(db)
    nodes = menu_drafts.nodes_of(draft.tree)
    context: dict[str, Any] = {
        "staff": staff.user,
        "may": staff.may,
        "csrf_token": staff.token.csrf_token,
        "csrf_field": CSRF_FIELD,
        "nav_active": "phone_menu",
        "who": namer(db, request.state.lang),
        "comment_of": lambda text: (
            translate("voice.menu_admin.shipped", request.state.lang)
            if text == menu.SHIPPED
            else text
        ),
        "live": live,
        "versions": menu.versions(db, limit=50),
        "draft": draft,
        "changed": draft.digest != live.digest,
        "tree": draft.tree,
        "nodes": nodes,
        "slots": {node_id: menu_drafts.text_slots(node) for node_id, node in nodes},
        "languages": LANGUAGES,
        "actions": ACTIONS,
        "json_text": (kept or {}).get("tree") if error_form == "json" else _pretty(draft.tree),
        "kept": kept or {},
        "error_form": error_form,
        "error_anchor": _anchor(error_form),
        "errors": errors or [],
        "notice": request.query_params.get("saved"),
    }
    response = render(request, "voice/phone_menu.html", context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(
    request: Request,
    staff: StaffPrincipal,
    db: Session,
    exc: KefuError,
    where: str,
    form: dict[str, str],
) -> Response:
    db.rollback()
    return _page(
        request,
        staff,
        db,
        error_form=where,
        errors=_reasons(exc, db, request.state.lang),
        kept=form,
        status_code=exc.status,
    )


def _saved(what: str, anchor: str) -> RedirectResponse:
    return RedirectResponse(f"/console/phone-menu?saved={what}#{anchor}", status_code=303)


@router.get("")
def phone_menu_page(request: Request, staff: Admin, db: DbSession) -> Response:
    response = _page(request, staff, db)
    db.commit()  # the shipped menu, published on first use
    return response


@router.post("/draft")
def save_draft(request: Request, staff: Admin, db: DbSession, form: FormData) -> Response:
    """The whole draft as JSON."""
    text = form.get("tree", "")
    try:
        if len(text) > MAX_TREE_CHARS:
            raise menu_drafts.MenuRefused([Finding("too_big", {"max": str(MAX_TREE_CHARS)})])
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            found = Finding("not_json", {"line": str(exc.lineno), "column": str(exc.colno)})
            raise menu_drafts.MenuRefused([found]) from None
        except (ValueError, RecursionError):  # a number too long, nesting too deep
            raise menu_drafts.MenuRefused([Finding("unreadable")]) from None
        menu_drafts.save(db, data, expected=form.get("draft", ""), actor=staff.actor)
    except KefuError as exc:
        return _refused(request, staff, db, exc, "json", form)
    db.commit()
    return _saved("draft", "draft")


@router.post("/draft/nodes/{node_id}")
def save_node(
    request: Request, node_id: NodeId, staff: Admin, db: DbSession, form: FormData
) -> Response:
    """One node: its texts in both languages and where its keys lead."""
    try:
        menu_drafts.edit_node(db, node_id, form, expected=form.get("draft", ""), actor=staff.actor)
    except NotFound:
        raise
    except KefuError as exc:
        return _refused(request, staff, db, exc, f"node:{node_id}", form)
    db.commit()
    return _saved("texts", f"node-{node_id}")


@router.post("/draft/discard")
def discard_draft(request: Request, staff: Admin, db: DbSession, form: FormData) -> Response:
    try:
        menu_drafts.discard(db, expected=form.get("draft", ""), actor=staff.actor)
    except KefuError as exc:
        return _refused(request, staff, db, exc, "draft", form)
    db.commit()
    return _saved("discarded", "draft")


@router.post("/publish")
def publish_draft(request: Request, staff: Admin, db: DbSession, form: FormData) -> Response:
    try:
        comment = form.get("comment", "").strip()
        if len(comment) > menu_drafts.MAX_COMMENT:
            raise InvalidInput("comment too long", field="comment")
        menu_drafts.publish(db, expected=form.get("draft", ""), comment=comment, actor=staff.actor)
    except KefuError as exc:
        return _refused(request, staff, db, exc, "publish", form)
    db.commit()
    return _saved("published", "published")


@router.post("/versions/{version}/restore")
def restore_version(
    request: Request, version: Annotated[RowId, Path()], staff: Admin, db: DbSession, form: FormData
) -> Response:
    """Roll back: an earlier version published again as the next one."""
    live = form.get("live", "")
    try:
        comment = form.get("comment", "").strip()
        if len(comment) > menu_drafts.MAX_COMMENT:
            raise InvalidInput("comment too long", field="comment")
        menu_drafts.roll_back(
            db,
            version,
            expected_live=int(live) if live.isdigit() and len(live) < 10 else -1,
            comment=comment,
            actor=staff.actor,
            lang=request.state.lang,
        )
    except KefuError as exc:
        return _refused(request, staff, db, exc, f"version:{version}", form)
    db.commit()
    return _saved("restored", "published")


# --- trying the draft in the phone simulator ------------------------------------------------


@router.get("/try")
def try_page(request: Request, staff: Admin, db: DbSession) -> Response:
    return render(
        request,
        "voice/simulator.html",
        {
            "staff": staff.user,
            "may": staff.may,
            "csrf_token": staff.token.csrf_token,
            "csrf_field": CSRF_FIELD,
            "nav_active": "phone_menu",
            "caller": DEMO_CALLER,
            "dialled": DEMO_HOTLINE,
            "urls": TRY_URLS,
            "trial": menu_drafts.current(db),
            "who": namer(db, request.state.lang),
            "outbox": False,
        },
    )


def _start_trial(db: Session, sid: str, staff: StaffPrincipal) -> None:
    menu_drafts.start_trial(db, sid, actor=staff.actor)
    db.commit()  # the hotline's webhooks read it in their own transaction


@router.post("/try/calls", response_model=PhoneView)
async def try_call(
    body: CallIn, request: Request, staff: Admin, db: DbSession, settings: SettingsDep
) -> PhoneView:
    """A simulated call that runs the draft as it is now."""
    phone = Phone.new(body.caller, DEMO_HOTLINE, poster(request, settings), public_base(settings))
    await run_in_threadpool(_start_trial, db, phone.state.sid, staff)
    await phone.dial()
    return await run_in_threadpool(with_voice, db, settings, phone.view())


def _placed_here(db: Session, sid: str, staff: StaffPrincipal) -> bool:
    found = menu_drafts.is_trial(db, sid, started_by=staff.actor.name)
    db.rollback()  # end the read: the hotline's webhooks write in their own transaction
    return found


@router.post("/try/steps", response_model=PhoneView)
async def try_step(
    body: StepIn, request: Request, staff: Admin, db: DbSession, settings: SettingsDep
) -> PhoneView:
    """The next thing the caller does, on a call this admin placed here (never on another
    call, nor on another admin's trial)."""
    if not await run_in_threadpool(_placed_here, db, body.state.sid, staff):
        raise NotFound("not a call that tries the draft")
    phone = Phone(body.state, poster(request, settings), public_base(settings))
    await play(phone, body)
    return await run_in_threadpool(with_voice, db, settings, phone.view())
