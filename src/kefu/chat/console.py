"""Console pages of live chat (坐席工作台): presence, the inbox, a live chat, transfers,
canned replies, and the supervisor's live view of queues and agents.

Pages render on the server; a small script per page keeps them live over ``/ws/console``
(new offers, messages, typing) and re-fetches the ``…/panel`` fragments when the queue
changes. Forms carry the session's CSRF token (checked in ``kefu.identity.deps.current_staff``).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu.cases.models import Case
from kefu.channels.deps import SendersDep
from kefu.chat import attachments, canned, inbox, live, routing
from kefu.chat import service as chat
from kefu.chat.models import Conversation
from kefu.chat.routes import StorageDep, file_response
from kefu.chat.routing_models import WorkItem
from kefu.config import Settings
from kefu.db import DbSession, utcnow
from kefu.deps import SettingsDep
from kefu.errors import InvalidInput, KefuError, NotFound
from kefu.i18n import LANGUAGES, Lang, translate
from kefu.identity import service as identity_service
from kefu.identity.deps import CSRF_FIELD, StaffPrincipal, require
from kefu.identity.models import StaffUser
from kefu.masking import mask_email, mask_phone
from kefu.numbers import RowId
from kefu.web.forms import error_text, form_errors
from kefu.web.templating import render

router = APIRouter(prefix="/console", include_in_schema=False)

Agent = Annotated[StaffPrincipal, Depends(require("chat.work"))]
Supervisor = Annotated[StaffPrincipal, Depends(require("routing.supervise"))]
ItemId = Annotated[RowId, Path()]
ConversationKey = Annotated[RowId, Path()]


def _base(staff: StaffPrincipal, active: str) -> dict[str, object]:
    return {
        "staff": staff.user,
        "csrf_token": staff.token.csrf_token,
        "csrf_field": CSRF_FIELD,
        "nav_active": active,
        "may": staff.may,
        "may_supervise": staff.may("routing.supervise"),
    }


def _back(request: Request, fallback: str) -> RedirectResponse:
    """Back to the console page the form was on (never elsewhere)."""
    referer = request.headers.get("referer", "")
    base = str(request.base_url).rstrip("/")
    target = referer[len(base) :] if referer.startswith(base + "/console") else fallback
    return RedirectResponse(target, status_code=303)


# --- inbox ------------------------------------------------------------------------------

# a skill a queue needs, as the agent reads it: the catalogue prefix of its labels
_SKILL_LABELS = (
    ("tier", "chat.tier."),
    ("language", "staff.language."),
    ("category", "case.category."),
)


def _refusal_text(exc: KefuError, lang: Lang) -> str:
    """A refused take or transfer in words; a presence and the skills a customer needs by
    their labels, not codes."""
    if "presence" in exc.params:
        presence = translate(f"chat.presence.{exc.params['presence']}", lang)
        return translate(exc.message_key, lang, **{**exc.params, "presence": presence})
    if not isinstance(exc, routing.NotSkilled):
        return error_text(exc, lang)
    needs = [
        translate(
            f"chat.error.needs.{skill}", lang, label=translate(prefix + exc.params[skill], lang)
        )
        for skill, prefix in _SKILL_LABELS
        if skill in exc.params
    ]
    return translate(
        exc.message_key, lang, needs=translate("chat.error.needs.separator", lang).join(needs)
    )


@router.get("/inbox")
def inbox_page(
    request: Request,
    staff: Agent,
    db: DbSession,
    settings: SettingsDep,
    not_taken: Annotated[RowId | None, Query()] = None,
    not_declined: Annotated[RowId | None, Query()] = None,
) -> Response:
    """``not_taken`` names the item of a refused take, ``not_declined`` that of a refused
    decline: why, as it stands now, is worded above the inbox."""
    view = inbox.build(db, staff.user, settings=settings)
    refused: KefuError | None = None
    if not_taken is not None and (item := db.get(WorkItem, not_taken)) is not None:
        refused = routing.refusal(db, item, view.profile, settings=settings)
    elif not_declined is not None and (item := db.get(WorkItem, not_declined)) is not None:
        refused = routing.decline_refusal(db, item, staff.user.id)
    db.commit()  # a first visit creates the agent's routing profile
    context = {
        **_base(staff, "inbox"),
        "inbox": view,
        "error": _refusal_text(refused, request.state.lang) if refused else None,
    }
    return render(request, "chat/inbox.html", context)


@router.get("/inbox/panel")
def inbox_panel(request: Request, staff: Agent, db: DbSession, settings: SettingsDep) -> Response:
    view = inbox.build(db, staff.user, settings=settings)
    return render(request, "chat/_inbox_panel.html", {**_base(staff, "inbox"), "inbox": view})


@router.post("/presence")
def presence(
    request: Request,
    staff: Agent,
    db: DbSession,
    settings: SettingsDep,
    value: Annotated[str, Form(alias="presence", max_length=8)],
) -> Response:
    routing.set_presence(db, staff.user, value, settings=settings)
    db.commit()
    return _back(request, "/console/inbox")


@router.post("/work/{item_id}/accept")
def accept(
    request: Request, item_id: ItemId, staff: Agent, db: DbSession, settings: SettingsDep
) -> Response:
    """A refusal by routing (``routing.REFUSALS``) goes back to the inbox, which words it
    beside the queue as it is now: after a redirect, so reloading the page does not post
    the take again."""
    item = routing.get_item(db, item_id)
    with form_errors(db, request.state.lang, reason=_refusal_text) as refused:
        live.accept(db, item, staff.user, settings=settings)
    if isinstance(refused.error, routing.REFUSALS):
        return RedirectResponse(f"/console/inbox?not_taken={item.id}", status_code=303)
    if refused:
        view = inbox.build(db, staff.user, settings=settings)
        context = {**_base(staff, "inbox"), "inbox": view, "error": refused.text}
        return render(request, "chat/inbox.html", context, status_code=refused.status)
    db.commit()
    if item.conversation_id is not None:
        return RedirectResponse(f"/console/chats/{item.conversation_id}", status_code=303)
    return RedirectResponse("/console/inbox", status_code=303)


@router.post("/work/{item_id}/decline")
def decline(
    request: Request, item_id: ItemId, staff: Agent, db: DbSession, settings: SettingsDep
) -> Response:
    """An offer no longer there (``routing.decline_refusal``) goes back to the inbox, which
    words why as a refused take does: after a redirect, so a reload posts nothing."""
    item = routing.get_item(db, item_id)
    with form_errors(db, request.state.lang, catch=routing.REFUSALS) as refused:
        routing.decline(db, item, staff.user, settings=settings)
    if refused:
        return RedirectResponse(f"/console/inbox?not_declined={item.id}", status_code=303)
    db.commit()
    return RedirectResponse("/console/inbox", status_code=303)


# --- a live chat ------------------------------------------------------------------------


def _customer_card(db: Session, conversation: Conversation) -> dict[str, object] | None:
    if conversation.customer_id is None:
        return None
    customer = identity_service.get_customer(db, conversation.customer_id)
    return {
        "id": customer.id,
        "name": customer.name,
        "account": customer.wallet_account_id,
        "phone": mask_phone(customer.phone),
        "email": mask_email(customer.email),
        "verified": conversation.verified_at is not None,
        "verified_at": conversation.verified_at,
    }


def _case_reference(db: Session, conversation: Conversation) -> str | None:
    if conversation.case_id is None:
        return None
    case = db.get(Case, conversation.case_id)
    return case.reference if case is not None else None


def _customer_view_url(customer_id: int, case_reference: str | None, item: WorkItem | None) -> str:
    """The customer view with the chat's case chosen for its actions, scrolled to the
    transaction the assistant found (``tx-<id>`` rows), if it found one."""
    url = f"/console/customers/{customer_id}"
    if case_reference:
        url += "?" + urlencode({"case": case_reference})
    facts = item.context.get("facts") if item is not None else None
    transaction = facts.get("transaction_id") if isinstance(facts, dict) else None
    if transaction:
        url += "#" + quote(f"tx-{transaction}")
    return url


def _transfer_targets(
    db: Session, staff: StaffUser, conversation: Conversation, item: WorkItem | None
) -> list[StaffUser]:
    """Who the chat may be transferred to by name: every active colleague but the one
    holding it (routing refuses a transfer to the holder). A supervisor who does not hold it
    is listed first: transferring it to themselves is how they take it over."""
    holder = conversation.assigned_staff_id
    if item is not None and item.status in routing.OPEN:
        holder = item.assigned_staff_id or item.offered_to_id
    active = [s for s in identity_service.list_staff(db) if s.is_active and s.id != holder]
    return sorted(active, key=lambda s: s.id != staff.id)


def _chat_view(
    db: Session, staff: StaffPrincipal, conversation: Conversation, settings: Settings
) -> dict[str, object]:
    item = inbox.conversation_item(db, conversation)
    history = chat.messages(db, conversation, include_internal=True, limit=1000)
    case_reference = _case_reference(db, conversation)
    colleagues = _transfer_targets(db, staff.user, conversation, item)
    return {
        **_base(staff, "inbox"),
        "conversation": conversation,
        "item": item,
        "events": routing.history(db, item) if item is not None else [],
        "messages": history,
        "last_seq": history[-1].seq if history else 0,
        "customer": _customer_card(db, conversation),
        "customer_view_url": _customer_view_url(conversation.customer_id, case_reference, item)
        if conversation.customer_id is not None
        else None,
        "case_reference": case_reference,
        "holder": conversation.assigned_staff_id == staff.user.id
        and conversation.status == "active",
        "colleagues": colleagues,
        "presences": routing.presences(db, [s.id for s in colleagues]),
        "tiers": routing.TIERS,
        "timezone": settings.timezone,
        "summaries": live.summary_drafts(db, conversation, settings=settings)
        if conversation.status == "active"
        else {},
    }


@router.get("/chats/{conversation_id}")
def chat_page(
    request: Request,
    conversation_id: ConversationKey,
    staff: Agent,
    db: DbSession,
    settings: SettingsDep,
) -> Response:
    conversation = live.conversation_for_staff(db, staff.user, conversation_id)
    return render(request, "chat/chat.html", _chat_view(db, staff, conversation, settings))


def _transfer_refusal(exc: KefuError, lang: Lang) -> str:
    """A transfer refused: a supervisor taking the chat over while not online (the only
    ``NotOnline`` a transfer raises) is told about themselves, on this page's terms."""
    if isinstance(exc, routing.NotOnline):
        presence = translate(f"chat.presence.{exc.params['presence']}", lang)
        return translate("chat.console.transfer.myself_not_online", lang, presence=presence)
    return _refusal_text(exc, lang)


@router.post("/chats/{conversation_id}/transfer")
def transfer(
    request: Request,
    conversation_id: ConversationKey,
    staff: Agent,
    db: DbSession,
    settings: SettingsDep,
    reason: Annotated[str, Form(max_length=routing.MAX_REASON)] = "",
    to: Annotated[str, Form(max_length=80)] = "",
    even_if_not_online: Annotated[bool, Form()] = False,
    go_online: Annotated[bool, Form()] = False,
) -> Response:
    """``to`` is ``tier:<tier>`` or ``staff:<username>``. A colleague who is not online is
    not sent the chat at once: the page comes back saying so, with a button to send it to
    them all the same (``even_if_not_online``) beside the list to choose another. A
    supervisor taking it over while not online is told so, with a button to go online and
    take it (``go_online``)."""
    conversation = live.conversation_for_staff(db, staff.user, conversation_id)
    kind, _, value = to.partition(":")
    to_staff: StaffUser | None = None
    to_tier = None
    if kind == "tier":
        to_tier = value
    elif kind == "staff":
        to_staff = identity_service.get_staff_by_username(db, value)
        if to_staff is None:
            raise InvalidInput("no such colleague", field="to")
    else:
        raise InvalidInput("transfer to an agent or to a tier", field="to")
    lang = request.state.lang
    not_online = (routing.ColleagueNotOnline, routing.NotOnline)
    with form_errors(db, lang, reason=_transfer_refusal, catch=not_online) as absent:
        live.transfer(
            db,
            conversation,
            staff.user,
            reason=reason,
            to_staff=to_staff,
            to_tier=to_tier,
            even_if_not_online=even_if_not_online,
            go_online=go_online,
            settings=settings,
        )
    if absent and to_staff is not None:
        check = {
            "text": absent.text,
            "to": to,
            "reason": reason,
            "name": to_staff.display_name,
            "myself": to_staff.id == staff.user.id,
        }
        context = {**_chat_view(db, staff, conversation, settings), "transfer_check": check}
        return render(request, "chat/chat.html", context, status_code=absent.status)
    db.commit()
    return RedirectResponse("/console/inbox", status_code=303)


@router.post("/chats/{conversation_id}/end")
def end_chat(
    conversation_id: ConversationKey,
    staff: Agent,
    db: DbSession,
    settings: SettingsDep,
    senders: SendersDep,
    outcome: Annotated[str, Form(max_length=10)] = "solved",
    summary_text: Annotated[str, Form(alias="summary", max_length=4000)] = "",
) -> Response:
    """``outcome`` sets the case: ``solved``, ``open`` (worked on) or ``waiting`` (on the
    customer); ``summary`` is the written summary as the agent left it."""
    conversation = live.conversation_for_staff(db, staff.user, conversation_id)
    live.end_chat(
        db,
        conversation,
        staff.user,
        outcome=outcome,
        summary_text=summary_text,
        settings=settings,
        senders=senders,
    )
    db.commit()
    return RedirectResponse("/console/inbox", status_code=303)


@router.get("/chats/{conversation_id}/summary")
def summary_drafts(
    conversation_id: ConversationKey, staff: Agent, db: DbSession, settings: SettingsDep
) -> Response:
    """The written summary per outcome as it stands now (an action done since the page
    opened is in it), for the end-of-chat form."""
    conversation = live.conversation_for_staff(db, staff.user, conversation_id)
    return JSONResponse(live.summary_drafts(db, conversation, settings=settings))


@router.get("/chats/{conversation_id}/canned")
def canned_replies(
    conversation_id: ConversationKey,
    staff: Agent,
    db: DbSession,
    q: Annotated[str, Query(max_length=canned.MAX_QUERY)] = "",
) -> Response:
    conversation = live.conversation_for_staff(db, staff.user, conversation_id)
    found = canned.suggest(db, conversation, staff.user, query=q)
    return JSONResponse(
        [
            {
                "source": c.source,
                "title": c.title,
                "text": c.text,
                "id": c.reply_id,
                "to_fill": c.to_fill,
            }
            for c in found
        ]
    )


@router.get("/chats/{conversation_id}/attachments/{attachment_id}")
def attachment(
    conversation_id: ConversationKey,
    attachment_id: Annotated[str, Path(max_length=32)],
    staff: Agent,
    db: DbSession,
    store: StorageDep,
) -> Response:
    conversation = live.conversation_for_staff(db, staff.user, conversation_id)
    return file_response(attachments.get(db, conversation, attachment_id), store)


# --- supervisor -------------------------------------------------------------------------


def _live_view(db: Session) -> dict[str, object]:
    now = utcnow()
    view = routing.snapshot(db, now)
    return {
        "snapshot": view,
        "now": now,
        "positions": {i.id: routing.position(db, i, now) for i in view.waiting},
        "categories": routing.CATEGORIES,
        "tiers": routing.TIERS,
        "languages": LANGUAGES,
    }


@router.get("/queues")
def queues_page(request: Request, staff: Supervisor, db: DbSession) -> Response:
    return render(request, "chat/queues.html", {**_base(staff, "queues"), **_live_view(db)})


@router.get("/queues/panel")
def queues_panel(request: Request, staff: Supervisor, db: DbSession) -> Response:
    return render(request, "chat/_queues_panel.html", {**_base(staff, "queues"), **_live_view(db)})


@router.post("/agents/{staff_id}/skills")
def agent_skills(
    staff_id: Annotated[RowId, Path()],
    staff: Supervisor,
    db: DbSession,
    languages: Annotated[list[str] | None, Form()] = None,
    categories: Annotated[list[str] | None, Form()] = None,
    tiers: Annotated[list[str] | None, Form()] = None,
    capacity: Annotated[int, Form(ge=1, le=routing.MAX_CAPACITY)] = 3,
) -> Response:
    agent = next((s for s in identity_service.list_staff(db) if s.id == staff_id), None)
    if agent is None:
        raise NotFound("no such staff member")
    routing.set_skills(
        db,
        agent,
        languages=languages or [],
        categories=categories or [],
        tiers=tiers or [],
        capacity=capacity,
        actor=staff.actor,
    )
    db.commit()
    return RedirectResponse("/console/queues", status_code=303)
