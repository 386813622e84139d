"""What the agent's inbox shows: offers waiting for an answer, the chats and other work
they hold, their open cases, and the unassigned queue — breached SLAs first everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.cases import service as cases_service
from kefu.cases.models import Case
from kefu.cases.transitions import FINISHED
from kefu.chat import routing
from kefu.chat.models import ChatMessage, Conversation
from kefu.chat.routing_models import AgentProfile, WorkItem
from kefu.config import Settings
from kefu.db import utcnow
from kefu.identity import service as identity_service
from kefu.identity.models import StaffUser

CASE_LIMIT = 50


@dataclass(frozen=True)
class ItemView:
    item: WorkItem
    waited_seconds: int
    customer_name: str | None
    last_text: str | None
    last_sender: str | None
    offer_seconds_left: int | None
    can_take: bool
    # a call waiting while the agent is on one: the queue says why it has no take button
    on_call: bool
    # the colleague a waiting item was transferred to by name, when not this agent, and
    # their presence: the queue says why it has no take button, as the live queues do
    sent_to: routing.NamedWait | None


@dataclass(frozen=True)
class CaseView:
    case: Case
    late: str | None  # which promise is broken: "first_response" or "resolution"

    @property
    def breached(self) -> bool:
        return self.late is not None


@dataclass(frozen=True)
class Inbox:
    profile: AgentProfile
    load: int
    mode: str
    # away or offline: nothing in the queue is theirs to take, and the queue says why
    takes_new_work: bool
    offers: list[ItemView]
    mine: list[ItemView]
    queue: list[ItemView]
    my_cases: list[CaseView]
    unassigned_cases: list[CaseView]


def late(case: Case, now: datetime) -> str | None:
    """The promise the case has broken, the resolution first: the row shows the committed
    resolution time, and a badge that only said "late" beside a date days ahead left the
    agent guessing that the first reply was the one overdue."""
    if case.resolution_breached_at or (
        case.resolution_due_at is not None and case.resolution_due_at < now
    ):
        return "resolution"
    first_late = case.first_response_due_at is not None and case.first_response_due_at < now
    if case.first_response_breached_at or (case.first_responded_at is None and first_late):
        return "first_response"
    return None


def _cases(db: Session, flt: cases_service.CaseFilter, now: datetime) -> list[CaseView]:
    found = [
        c
        for c in cases_service.list_cases(db, flt=flt, limit=CASE_LIMIT, now=now)
        if c.status not in FINISHED
    ]
    views = [CaseView(c, late(c, now)) for c in found]
    far = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted(views, key=lambda v: (not v.breached, v.case.resolution_due_at or far))


def _view(
    db: Session,
    item: WorkItem,
    agent: AgentProfile,
    now: datetime,
    load: int,
    settings: Settings,
    named: dict[int, routing.NamedWait],
) -> ItemView:
    name = None
    if item.customer_id is not None:
        name = identity_service.get_customer(db, item.customer_id).name
    last = None
    if item.conversation_id is not None:
        last = db.scalars(
            select(ChatMessage)
            .where(
                ChatMessage.conversation_id == item.conversation_id,
                ChatMessage.internal.is_(False),
            )
            .order_by(ChatMessage.seq.desc())
            .limit(1)
        ).first()
    left = None
    if item.status == "offered" and item.offer_expires_at is not None:
        left = max(0, int((item.offer_expires_at - now).total_seconds()))
    refused = None
    if item.status == "waiting":
        refused = routing.refusal(db, item, agent, settings=settings, load=load)
    return ItemView(
        item=item,
        waited_seconds=int((now - item.enqueued_at).total_seconds()),
        customer_name=name,
        last_text=last.text[:120] if last is not None else None,
        last_sender=last.sender if last is not None else None,
        offer_seconds_left=left,
        can_take=item.status == "waiting" and refused is None,
        on_call=isinstance(refused, routing.OnCall),
        sent_to=named.get(item.id) if item.target_staff_id != agent.staff_id else None,
    )


def build(
    db: Session, staff: StaffUser, *, settings: Settings, now: datetime | None = None
) -> Inbox:
    now = now or utcnow()
    agent = routing.profile(db, staff)
    load = routing.loads(db).get(staff.id, 0)
    held = routing.items_of(db, staff.id)
    offers = [_view(db, i, agent, now, load, settings, {}) for i in held if i.status == "offered"]
    mine = [_view(db, i, agent, now, load, settings, {}) for i in held if i.status == "assigned"]
    waiting = [i for i in routing.waiting(db, limit=100) if i not in held]
    named = routing.named_waits(db, waiting)
    queue = [_view(db, i, agent, now, load, settings, named) for i in waiting]
    return Inbox(
        profile=agent,
        load=load,
        mode=settings.routing_mode,
        takes_new_work=routing.takes_new_work(agent),
        offers=offers,
        mine=mine,
        queue=queue,
        my_cases=_cases(db, cases_service.CaseFilter(owner_id=staff.id), now),
        unassigned_cases=_cases(db, cases_service.CaseFilter(unassigned=True), now),
    )


def conversation_item(db: Session, conversation: Conversation) -> WorkItem | None:
    """The chat's current work item, or its last one once it is over."""
    return db.scalars(
        select(WorkItem)
        .where(WorkItem.conversation_id == conversation.id)
        .order_by(WorkItem.id.desc())
        .limit(1)
    ).first()
