"""Live chat with a person: what the customer and the agent do once the assistant has
handed a conversation over, and how every stored message reaches the open sockets.

Any message appended to a conversation — by the assistant, an agent, this module or any
other domain — is published on the bus after its transaction commits (``chat.append``), as
is any change of a conversation's status (a SQLAlchemy flush listener below). So the
sockets never depend on who wrote the message, and a rolled-back message is never announced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session, UOWTransaction

from kefu import audit, placeholders
from kefu.bot import service as bot_service
from kefu.cases import conversation as case_conversation
from kefu.cases import service as cases_service
from kefu.cases import summary
from kefu.cases.models import Case
from kefu.cases.transitions import FINISHED, Mover, Status
from kefu.channels.senders import Senders
from kefu.chat import bus, delivery, routing
from kefu.chat import service as chat
from kefu.chat.models import ChatMessage, Conversation
from kefu.chat.routing_models import WorkItem
from kefu.config import Settings, get_settings
from kefu.db import utcnow
from kefu.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from kefu.i18n import Lang, normalise_lang, translate
from kefu.identity.models import StaffUser
from kefu.identity.permissions import has_permission
from kefu.quality import events as quality
from kefu.wallet.port import WalletGateway

MAX_TEXT = chat.MAX_TEXT


@event.listens_for(Session, "after_flush")
def _announce(session: Session, _flush: UOWTransaction) -> None:
    for obj in session.dirty:
        if isinstance(obj, Conversation) and chat.status_changed(obj):
            bus.after_commit(
                session,
                chat.channel(obj.id),
                {
                    "type": "status",
                    "conversation_id": obj.id,
                    "status": obj.status,
                    "assigned_staff_id": obj.assigned_staff_id,
                },
            )


def _lang(conversation: Conversation) -> Lang:
    return normalise_lang(conversation.language) or get_settings().default_language


def _system(
    db: Session,
    conversation: Conversation,
    key: str,
    now: datetime,
    *,
    data: dict[str, Any] | None = None,
    internal: bool = False,
    **params: Any,
) -> ChatMessage:
    message = chat.append(
        db,
        conversation,
        sender="system",
        text=translate(key, _lang(conversation), **params),
        data={"key": key, **(data or {})},
        internal=internal,
        now=now,
    )
    delivery.relay(db, conversation, message)
    return message


def _text(text: str) -> str:
    if not isinstance(text, str):
        raise InvalidInput("text must be a string", field="text")
    text = text.replace("\x00", " ").strip()
    if not text:
        raise InvalidInput("a message needs text", field="text")
    if len(text) > MAX_TEXT:
        raise InvalidInput("message too long", field="text", max=MAX_TEXT)
    return text


# --- the customer's side --------------------------------------------------------------


def customer_says(
    db: Session,
    conversation: Conversation,
    text: str,
    *,
    settings: Settings,
    senders: Senders,
    wallet: WalletGateway,
    client_msg_id: str | None = None,
    now: datetime | None = None,
) -> list[ChatMessage]:
    """A customer message: to the assistant while it has the conversation, to the agent
    once a person has it (or is being found). A closed conversation goes back to the
    assistant. A resent ``client_msg_id`` is stored once."""
    now = now or utcnow()
    text = _text(text)
    if conversation.status == "closed":
        conversation.status = "bot"
        conversation.closed_at = None
        conversation.assigned_staff_id = None
    if conversation.status == "bot":
        turn = bot_service.respond(
            db,
            conversation,
            text,
            settings=settings,
            senders=senders,
            wallet=wallet,
            client_msg_id=client_msg_id,
            now=now,
        )
        return turn.messages
    stored = chat.append(
        db, conversation, sender="customer", text=text, client_msg_id=client_msg_id, now=now
    )
    chat.copy_to_case(db, conversation)
    return [stored]


def customer_leaves(
    db: Session, conversation: Conversation, *, now: datetime | None = None
) -> None:
    """The customer ended the chat: a queued hand-over is cancelled, the chat closed."""
    now = now or utcnow()
    if conversation.status == "closed":
        return
    item = routing.open_item(db, conversation_id=conversation.id)
    if item is not None:
        if item.status == "assigned":
            routing.finish(db, item, now)
        else:
            routing.cancel(db, item, reason="customer_left", now=now)
    _system(db, conversation, "chat.system.customer_left", now)
    _close(db, conversation, now, item)
    chat.copy_to_case(db, conversation)


def customer_gone(db: Session, conversation: Conversation, *, now: datetime | None = None) -> None:
    """The customer's last window closed while waiting for a person; if they do not come
    back within ``KEFU_ROUTING_ABANDON_SECONDS`` the sweep cancels the wait."""
    item = routing.open_item(db, conversation_id=conversation.id)
    if item is not None and item.status in routing.UNASSIGNED and item.customer_away_since is None:
        item.customer_away_since = now or utcnow()


def customer_back(db: Session, conversation: Conversation) -> None:
    item = routing.open_item(db, conversation_id=conversation.id)
    if item is not None and item.customer_away_since is not None:
        item.customer_away_since = None


def sweep_abandoned(
    db: Session, *, settings: Settings | None = None, now: datetime | None = None
) -> int:
    """Cancel the waits of customers gone longer than the grace period."""
    settings = settings or get_settings()
    now = now or utcnow()
    limit = now - timedelta(seconds=settings.routing_abandon_seconds)
    gone = list(
        db.scalars(
            select(WorkItem)
            .where(
                WorkItem.status.in_(routing.UNASSIGNED),
                WorkItem.customer_away_since.is_not(None),
                WorkItem.customer_away_since <= limit,
            )
            .with_for_update()
        )
    )
    for item in gone:
        routing.cancel(db, item, reason="abandoned", now=now, settings=settings)
        conversation = db.get(Conversation, item.conversation_id) if item.conversation_id else None
        if conversation is not None and conversation.status != "closed":
            _system(db, conversation, "chat.system.abandoned", now)
            _close(db, conversation, now, item)
            chat.copy_to_case(db, conversation)
    return len(gone)


def sweep(
    db: Session, *, settings: Settings | None = None, now: datetime | None = None
) -> tuple[int, int]:
    """The routine clean-up: lapsed offers go to the next agent, abandoned waits end.
    Returns how many of each."""
    return (
        routing.expire_offers(db, settings=settings, now=now),
        sweep_abandoned(db, settings=settings, now=now),
    )


@dataclass(frozen=True)
class WaitInfo:
    status: str
    position: int
    minutes: int
    agent_name: str | None
    # the colleague the chat was transferred to by name while she is not online: the
    # customer is told they wait for her, with no minutes promised (``minutes`` is 0)
    waiting_for: str | None = None


def wait_info(db: Session, conversation: Conversation, *, now: datetime | None = None) -> WaitInfo:
    """What the widget shows: where the customer is in the queue, or who is helping."""
    agent_name = None
    if conversation.assigned_staff_id is not None:
        staff = db.get(StaffUser, conversation.assigned_staff_id)
        agent_name = staff.display_name if staff is not None else None
    if conversation.status != "queued":
        return WaitInfo(conversation.status, 0, 0, agent_name)
    item = routing.open_item(db, conversation_id=conversation.id)
    if item is None:
        return WaitInfo(conversation.status, 0, 0, agent_name)
    place = routing.position(db, item, now)
    if not place.promised and place.waits_for is not None:
        return WaitInfo(conversation.status, place.position, 0, None, place.waits_for.name)
    return WaitInfo(conversation.status, place.position, place.minutes_to_tell, agent_name)


# --- the agent's side -----------------------------------------------------------------


def may_watch(staff: StaffUser, conversation: Conversation, item: WorkItem | None) -> bool:
    """Agents see the conversations they hold or are offered; supervisors see any."""
    if conversation.assigned_staff_id == staff.id:
        return True
    if item is not None and staff.id in (item.offered_to_id, item.assigned_staff_id):
        return True
    return has_permission(staff.role, "routing.supervise")


def conversation_for_staff(
    db: Session, staff: StaffUser, conversation_id: int, *, lock: bool = False
) -> Conversation:
    """The conversation if this agent may see it; ``lock`` to write to it (``chat.locked``)."""
    conversation = (
        chat.locked(db, conversation_id) if lock else db.get(Conversation, conversation_id)
    )
    if conversation is None:
        raise NotFound("conversation not found")
    if conversation.assigned_staff_id == staff.id:
        return conversation  # the usual case, without looking up the queue
    item = routing.open_item(db, conversation_id=conversation.id)
    if not may_watch(staff, conversation, item):
        raise NotFound("conversation not found")  # as if unknown: no probing
    return conversation


def accept(
    db: Session,
    item: WorkItem,
    staff: StaffUser,
    *,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> WorkItem:
    """The agent takes the item; a chat becomes theirs and the customer is told who. The
    item's case is the agent's too: one piece of work."""
    now = now or utcnow()
    routing.accept(db, item, staff, settings=settings, now=now)
    case = db.get(Case, item.case_id) if item.case_id is not None else None
    if case is not None and Status(case.status) not in FINISHED:
        cases_service.assign(db, case, owner_username=staff.username, actor=_actor(staff), now=now)
    if item.conversation_id is not None:
        conversation = db.get(Conversation, item.conversation_id)
        if conversation is not None:
            conversation.status = "active"
            conversation.assigned_staff_id = staff.id
            conversation.handed_over_at = conversation.handed_over_at or now
            _system(
                db,
                conversation,
                "chat.system.agent_joined",
                now,
                data={"agent_name": staff.display_name},
                name=staff.display_name,
            )
            chat.copy_to_case(db, conversation)
    return item


def _actor(staff: StaffUser) -> audit.Actor:
    return audit.Actor(name=f"staff:{staff.username}", role=staff.role)


# built once, as each message asks it (``chat.locked``)
_AGENT_REPLIED = (
    select(ChatMessage.id)
    .where(
        ChatMessage.conversation_id == bindparam("id"),
        ChatMessage.sender == "agent",
        ChatMessage.internal.is_(False),
    )
    .limit(1)
)


def agent_says(
    db: Session,
    conversation: Conversation,
    staff: StaffUser,
    text: str,
    *,
    internal: bool = False,
    client_msg_id: str | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> ChatMessage:
    """A reply to the customer from the agent who holds the chat, or an internal note
    (the holder or a supervisor) that customers never receive."""
    now = now or utcnow()
    text = _text(text)
    holder = conversation.assigned_staff_id == staff.id and conversation.status == "active"
    if internal:
        if not holder and not has_permission(staff.role, "routing.supervise"):
            raise PermissionDenied("only the agent holding the chat or a supervisor")
    elif not holder:
        raise Conflict("the chat is not yours to answer", reason="not_holder")
    else:  # a note may quote a canned reply; the customer never sees one half filled
        placeholders.refuse_unfilled(text, normalise_lang(conversation.language) or "zh-CN")
    known = conversation.last_seq
    first = not internal and db.scalar(_AGENT_REPLIED, {"id": conversation.id}) is None
    message = chat.append(
        db,
        conversation,
        sender="agent",
        text=text,
        staff_id=staff.id,
        internal=internal,
        data={"agent_name": staff.display_name},
        client_msg_id=client_msg_id,
        now=now,
    )
    if message.seq > known:  # to the customer's channel, once
        delivery.relay(db, conversation, message)
    case = db.get(Case, conversation.case_id) if conversation.case_id is not None else None
    if case is not None and not internal and Status(case.status) not in FINISHED:
        case_conversation.chat_reply(
            db, case, actor=_actor(staff), settings=settings or get_settings(), now=now
        )
    chat.copy_to_case(db, conversation)
    if first and message.seq > known:  # not a resend of a message already stored
        item = routing.open_item(db, conversation_id=conversation.id)
        quality.record(
            db,
            "first_reply",
            channel=_quality_channel(conversation),
            at=now,
            conversation_id=conversation.id,
            case_id=conversation.case_id,
            work_item_id=item.id if item is not None else None,
            staff_id=staff.id,
            customer_id=conversation.customer_id,
        )
    return message


def _quality_channel(conversation: Conversation) -> str:
    return conversation.channel if conversation.channel in quality.CHANNELS else "web"


def transfer(
    db: Session,
    conversation: Conversation,
    staff: StaffUser,
    *,
    reason: str,
    to_staff: StaffUser | None = None,
    to_tier: str | None = None,
    even_if_not_online: bool = False,
    go_online: bool = False,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> WorkItem:
    """Pass the chat to a colleague or a tier: the customer hears they are being
    transferred; the reason is an internal note for the next agent. A colleague not
    online is refused unless ``even_if_not_online`` (``routing.transfer``); so is a
    supervisor taking it over (``to_staff`` is ``staff``) while not online, unless they go
    online with it (``go_online``)."""
    now = now or utcnow()
    item = routing.open_item(db, conversation_id=conversation.id, lock=True)
    if item is None:
        raise Conflict("the chat is not waiting or being handled", reason="no_item")
    if go_online:
        if to_staff is None or to_staff.id != staff.id:
            raise InvalidInput("only taking a chat over sets one online", field="go_online")
        routing.set_presence(db, staff, "online", settings=settings, now=now)
    routing.transfer(
        db,
        item,
        by=staff,
        reason=reason,
        to_staff=to_staff,
        to_tier=to_tier,
        even_if_not_online=even_if_not_online,
        settings=settings,
        now=now,
    )
    target = (
        to_staff.display_name
        if to_staff is not None
        else translate(f"chat.tier.{to_tier}", _lang(conversation))
    )
    _system(
        db,
        conversation,
        "chat.system.transfer_note",
        now,
        internal=True,
        data={"reason": reason.strip(), "by": staff.display_name},
        by=staff.display_name,
        to=target,
        reason=reason.strip(),
    )
    conversation.status = "queued"
    conversation.assigned_staff_id = None
    _system(db, conversation, "chat.system.transferring", now)
    chat.copy_to_case(db, conversation)
    return item


def summary_drafts(
    db: Session, conversation: Conversation, *, settings: Settings | None = None
) -> dict[str, str]:
    """The written summary the customer will receive when the chat ends, per outcome the
    agent may choose, for the agent to read and edit first."""
    settings = settings or get_settings()
    case = db.get(Case, conversation.case_id) if conversation.case_id is not None else None
    since = conversation.handed_over_at or conversation.created_at
    return {
        outcome: summary.draft(
            db,
            case,
            contact="chat",
            outcome=outcome,
            since=since,
            settings=settings,
            lang=_lang(conversation),
        )
        for outcome in summary.OUTCOMES
    }


def end_chat(
    db: Session,
    conversation: Conversation,
    staff: StaffUser,
    *,
    outcome: str,
    summary_text: str | None = None,
    settings: Settings,
    senders: Senders,
    now: datetime | None = None,
) -> None:
    """The agent ends the chat and their slot frees up. ``outcome`` sets the chat's case:
    ``solved`` resolves it (and the customer is asked how it went), ``open`` keeps it
    being worked, ``waiting`` waits on the customer. The customer receives the written
    summary (``summary_text`` as the agent edited it, else the draft) in the chat and, as
    a chat window does not stay open, by SMS or e-mail; it stays on the case's timeline."""
    now = now or utcnow()
    if outcome not in summary.OUTCOMES:
        raise InvalidInput("unknown outcome", field="outcome")
    if conversation.status != "active" or (
        conversation.assigned_staff_id != staff.id
        and not has_permission(staff.role, "routing.supervise")
    ):
        raise Conflict("only an active chat you hold can be closed", reason="not_holder")
    written = summary.clean(
        summary_text, summary_drafts(db, conversation, settings=settings)[outcome]
    )
    item = routing.open_item(db, conversation_id=conversation.id, lock=True)
    if item is not None:
        routing.finish(db, item, now)
    solved = outcome == "solved"
    key = "chat.system.resolved" if solved else "chat.system.ended_open"
    _system(db, conversation, key, now, name=staff.display_name)
    _system(db, conversation, "chat.system.summary", now, data={"summary": True}, text=written)
    # the chat's contact takes in its case before the case resolves (and its survey is
    # planned), so the figures and the survey count one contact
    _close(db, conversation, now, item)
    chat.copy_to_case(db, conversation)
    case = db.get(Case, conversation.case_id) if conversation.case_id is not None else None
    actor = _actor(staff)
    if case is not None and Status(case.status) not in FINISHED:
        target = {
            "solved": Status.RESOLVED,
            "open": Status.OPEN,
            "waiting": Status.PENDING_CUSTOMER,
        }[outcome]
        if target.value != case.status:
            cases_service.move(
                db,
                case,
                target=target,
                mover=Mover.STAFF,
                actor=actor,
                settings=settings,
                now=now,
                reason="chat" if solved else None,
            )
    elif solved and case is None:
        quality.record(
            db,
            "resolved",
            channel=_quality_channel(conversation),
            at=now,
            conversation_id=conversation.id,
            work_item_id=item.id if item is not None else None,
            staff_id=staff.id,
            customer_id=conversation.customer_id,
        )
    if case is not None and conversation.channel in chat.SUMMARY_BY_TEXT:
        summary.send(
            db,
            case,
            body=written,
            senders=senders,
            actor=actor,
            now=now,
        )


def _close(db: Session, conversation: Conversation, now: datetime, item: WorkItem | None) -> None:
    conversation.status = "closed"
    conversation.closed_at = now
    quality.record(
        db,
        "contact_ended",
        channel=_quality_channel(conversation),
        at=now,
        conversation_id=conversation.id,
        case_id=conversation.case_id,
        work_item_id=item.id if item is not None else None,
        customer_id=conversation.customer_id,
    )
