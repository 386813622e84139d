"""Routing: queues of work for people, agent presence and skills, offers and transfers.

Work items (chats handed over by the assistant, hotline calls, call-backs, e-mails) wait in
queues keyed by tier, language and category. Urgent items (stolen account, scam) go ahead
of everything else in every queue; otherwise the first to arrive is the first served.

Two ways to hand out work (``KEFU_ROUTING_MODE``):

- ``push`` (default): the item is *offered* to the online agent who has the skills (tier,
  language, category), room under their concurrent capacity and the least load — ties go
  to whoever has waited longest since their last assignment. An offer not accepted within
  ``KEFU_ROUTING_OFFER_SECONDS`` lapses and goes to the next agent; an agent who misses
  ``MISSED_OFFERS_BEFORE_AWAY`` offers in a row is set to *away* so customers stop waiting
  on them.
- ``pick``: agents pick items from the unassigned queue themselves.

Every change commits with the caller's transaction; after the commit the agents and
supervisors concerned are told over the chat bus (``kefu.chat.bus``).

Several processes may route at once: ``dispatch`` first locks the online agents' profile
rows (PostgreSQL ``FOR UPDATE``; SQLite serialises writers anyway), so two processes can
never both fill the same agent's last free slot.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from kefu import audit
from kefu.cases.categories import Category, Tier
from kefu.chat import bus
from kefu.chat.models import Conversation
from kefu.chat.routing_models import AgentProfile, WorkItem, WorkItemEvent
from kefu.config import Settings, get_settings
from kefu.db import utcnow
from kefu.errors import Conflict, InvalidInput, KefuError, NotFound, PermissionDenied
from kefu.i18n import LANGUAGES, normalise_lang, translate
from kefu.identity.models import StaffUser
from kefu.identity.permissions import has_permission
from kefu.notifications import service as notifications
from kefu.quality import events as quality

KINDS = ("chat", "call", "callback", "email")
PRESENCES = ("online", "away", "offline")
OPEN = ("waiting", "offered", "assigned")
UNASSIGNED = ("waiting", "offered")
TIERS = tuple(t.value for t in Tier)
CATEGORIES = tuple(c.value for c in Category)
MISSED_OFFERS_BEFORE_AWAY = 2
# cancel reasons that mean the customer gave up waiting (a call-back is not giving up)
ABANDON_REASONS = frozenset({"abandoned", "customer_left", "hung_up"})
MAX_CAPACITY = 20
MAX_REASON = 500
# handle times used for the wait estimate: the latest finished items of the same tier
HANDLE_TIME_SAMPLE = 50
HANDLE_TIME_WINDOW = timedelta(days=7)
# the tiers each role works by default, until a supervisor edits the agent's skills
DEFAULT_TIERS: dict[str, list[str]] = {
    "agent": ["tier1"],
    "specialist": ["tier1", "tier2"],
    "supervisor": ["tier1", "tier2", "supervisor"],
    "admin": ["tier1", "tier2", "supervisor"],
}

QUEUES_CHANNEL = "queues"


# Why an agent may not take an item, each in its own words on the console (``refusal``).
class TransferredToColleague(Conflict):
    """The item waits for the colleague it was transferred to by name."""

    code = "transferred_to_colleague"
    message_key = "chat.error.transferred_to_colleague"


class TakenByColleague(Conflict):
    """Another agent took the item first."""

    code = "taken_by_colleague"
    message_key = "chat.error.taken_by_colleague"


class AlreadyYours(Conflict):
    """The agent took the item already (a second click, a page left open)."""

    code = "already_yours"
    message_key = "chat.error.already_yours"


class NoLongerWaiting(Conflict):
    """The customer left, or the item was closed, before anyone took it."""

    code = "no_longer_waiting"
    message_key = "chat.error.no_longer_waiting"


class OfferLapsed(Conflict):
    """Push mode: the offer to this agent ran out or went to the next agent; only an
    offer is taken there, not an item from the queue."""

    code = "offer_lapsed"
    message_key = "chat.error.offer_lapsed"


class AtCapacity(Conflict):
    """The agent holds as many items as their capacity allows; ``capacity`` says how many."""

    code = "at_capacity"
    message_key = "chat.error.at_capacity"


class NotOnline(Conflict):
    """The agent is away or offline (``presence``): new work goes to online agents only,
    whether push routing offers it or the agent takes it from the queue."""

    code = "not_online"
    message_key = "chat.error.not_online"


class OnCall(Conflict):
    """The item is a call and the agent is on one already (or has one offered): an agent
    takes one call at a time, whether push routing offers it or they take it."""

    code = "on_call"
    message_key = "chat.error.on_call"


class NotSkilled(PermissionDenied):
    """The item's queue needs skills the agent lacks: ``tier``, ``language`` and
    ``category`` hold the codes of those missing (a page words them as labels)."""

    code = "not_skilled"
    message_key = "chat.error.not_skilled"


class ColleagueNotOnline(Conflict):
    """A transfer by name to a colleague who is away or offline (``presence``): the customer
    would wait until they come online, or a supervisor transfers the chat again. The one
    transferring decides, knowing it (``transfer(even_if_not_online=True)``)."""

    code = "colleague_not_online"
    message_key = "chat.error.colleague_not_online"


REFUSALS = (
    TransferredToColleague,
    TakenByColleague,
    AlreadyYours,
    NoLongerWaiting,
    OfferLapsed,
    AtCapacity,
    NotOnline,
    OnCall,
    NotSkilled,
)


def agent_channel(staff_id: int) -> str:
    return bus.staff_channel(staff_id)


@dataclass(frozen=True)
class NamedWait:
    """The colleague a waiting item was transferred to by name, and their presence: while
    they are not online the customer waits on them alone."""

    name: str
    presence: str


@dataclass(frozen=True)
class QueuePosition:
    """Where a waiting item stands: 1 is next. Both are 0 once an agent has it.

    An item transferred to a colleague by name waits for her alone (``waits_for``, with her
    presence): while she is not online no wait can be promised (``promised`` is False and
    ``estimated_wait_seconds`` 0), and every surface says so instead of a number."""

    position: int
    estimated_wait_seconds: int
    waits_for: NamedWait | None = None

    @property
    def promised(self) -> bool:
        return self.waits_for is None or self.waits_for.presence == "online"

    @property
    def minutes_to_tell(self) -> int:
        """The wait as the customer is told it, by the assistant and in the widget alike:
        whole minutes rounded up (a promise kept rather than one missed), at least one."""
        return max(1, -(-self.estimated_wait_seconds // 60))

    @property
    def under_a_minute(self) -> bool:
        """Staff read a wait the customer is told as "about 1 minute" only because it is
        rounded up (under 60 s, none at all when an agent is free) as under a minute; from
        a minute on they read the customer's own whole minutes."""
        return self.estimated_wait_seconds < 60


def _choice(value: str, allowed: Sequence[str], field: str) -> str:
    if value not in allowed:
        raise InvalidInput(f"unknown {field} {value!r}", field=field)
    return value


def _event(
    db: Session,
    item: WorkItem,
    kind: str,
    now: datetime,
    *,
    staff_id: int | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    db.add(
        WorkItemEvent(
            item_id=item.id,
            kind=kind,
            staff_id=staff_id,
            reason=reason,
            data=data or {},
            created_at=now,
        )
    )


def channel_of(db: Session, item: WorkItem) -> str:
    """The contact's channel in quality figures."""
    if item.kind in ("call", "callback"):
        return "phone"
    if item.kind == "email":
        return "email"
    conversation = db.get(Conversation, item.conversation_id) if item.conversation_id else None
    if conversation is not None and conversation.channel in quality.CHANNELS:
        return conversation.channel
    return "web"


def _record(
    db: Session,
    kind: str,
    item: WorkItem,
    now: datetime,
    *,
    staff_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    quality.record(
        db,
        kind,
        channel=channel_of(db, item),
        at=now,
        case_id=item.case_id,
        conversation_id=item.conversation_id,
        call_sid=item.call_sid,
        work_item_id=item.id,
        staff_id=staff_id,
        customer_id=item.customer_id,
        category=item.category,
        data=data,
    )


def summary(item: WorkItem) -> dict[str, Any]:
    """What a console needs to show an item in a list or an offer; no customer data
    beyond the context the assistant collected (already masked)."""
    return {
        "id": item.id,
        "kind": item.kind,
        "status": item.status,
        "language": item.language,
        "category": item.category,
        "tier": item.tier,
        "urgent": item.urgent,
        "conversation_id": item.conversation_id,
        "case_id": item.case_id,
        "enqueued_at": item.enqueued_at.isoformat(),
        "offer_expires_at": item.offer_expires_at.isoformat() if item.offer_expires_at else None,
        "offered_to_id": item.offered_to_id,
        "assigned_staff_id": item.assigned_staff_id,
        "context": item.context,
    }


def _tell(db: Session, item: WorkItem, change: str, *staff_ids: int | None) -> None:
    payload = {"type": "work", "change": change, "item": summary(item)}
    bus.after_commit(db, QUEUES_CHANNEL, payload)
    for staff_id in {s for s in staff_ids if s is not None}:
        bus.after_commit(db, agent_channel(staff_id), payload)


# --- agents -------------------------------------------------------------------------


def profile(db: Session, staff: StaffUser, *, lock: bool = False) -> AgentProfile:
    """The staff member's routing profile, created with defaults on first use: their own
    language, every category, the tiers of their role, the default capacity."""
    query = select(AgentProfile).where(AgentProfile.staff_id == staff.id)
    if lock:
        query = query.with_for_update()
    found = db.scalars(query).first()
    if found is not None:
        return found
    created = _first_profile(staff)
    db.add(created)
    db.flush()
    return created


def profile_as_is(db: Session, staff: StaffUser) -> AgentProfile:
    """The profile, or the one a first use would create, unsaved: a page that only reads
    (the console home) shows the agent's skills and presence without writing a row."""
    found = db.scalars(select(AgentProfile).where(AgentProfile.staff_id == staff.id)).first()
    return found if found is not None else _first_profile(staff)


def _first_profile(staff: StaffUser) -> AgentProfile:
    now = utcnow()
    return AgentProfile(
        staff_id=staff.id,
        presence="offline",
        languages=[staff.language],
        categories=[],
        tiers=list(DEFAULT_TIERS.get(staff.role, ["tier1"])),
        capacity=get_settings().routing_default_capacity,
        missed_offers=0,
        presence_changed_at=now,
        updated_at=now,
    )


def set_presence(
    db: Session,
    staff: StaffUser,
    presence: str,
    *,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> AgentProfile:
    """Online agents receive work; away and offline agents keep what they hold but get
    nothing new. Going offline hands back offers not yet accepted."""
    _choice(presence, PRESENCES, "presence")
    now = now or utcnow()
    agent = profile(db, staff, lock=True)
    if agent.presence != presence:
        agent.presence = presence
        agent.presence_changed_at = now
    agent.missed_offers = 0
    agent.updated_at = now
    if presence != "online":
        for item in db.scalars(
            select(WorkItem)
            .where(WorkItem.status == "offered", WorkItem.offered_to_id == staff.id)
            .with_for_update()
        ):
            _withdraw_offer(db, item, now, kind="declined", reason=f"presence:{presence}")
    bus.after_commit(
        db, QUEUES_CHANNEL, {"type": "presence", "staff_id": staff.id, "presence": presence}
    )
    db.flush()
    dispatch(db, settings=settings, now=now)
    return agent


def set_skills(
    db: Session,
    staff: StaffUser,
    *,
    languages: Sequence[str],
    categories: Sequence[str],
    tiers: Sequence[str],
    capacity: int,
    actor: audit.Actor | None = None,
    now: datetime | None = None,
) -> AgentProfile:
    """Replace an agent's skills. An empty ``categories`` means every category. A change
    made by someone (a supervisor) is audited."""
    for value in languages:
        _choice(value, LANGUAGES, "languages")
    for value in categories:
        _choice(value, CATEGORIES, "categories")
    for value in tiers:
        _choice(value, TIERS, "tiers")
    if not languages:
        raise InvalidInput("an agent needs at least one language", field="languages")
    if not tiers:
        raise InvalidInput("an agent needs at least one tier", field="tiers")
    if not 1 <= capacity <= MAX_CAPACITY:
        raise InvalidInput("capacity out of range", field="capacity", max=MAX_CAPACITY)
    agent = profile(db, staff, lock=True)
    before = _skills(agent)
    agent.languages = sorted(set(languages))
    agent.categories = sorted(set(categories))
    agent.tiers = [t for t in TIERS if t in set(tiers)]
    agent.capacity = capacity
    agent.updated_at = now or utcnow()
    if actor is not None:
        audit.record(
            db,
            actor=actor,
            action="routing.skills",
            before={"staff": staff.username, **before},
            after={"staff": staff.username, **_skills(agent)},
        )
    db.flush()
    return agent


def _skills(agent: AgentProfile) -> dict[str, Any]:
    return {
        "languages": list(agent.languages),
        "categories": list(agent.categories),
        "tiers": list(agent.tiers),
        "capacity": agent.capacity,
    }


def loads(db: Session) -> dict[int, int]:
    """Open items (offered or assigned) per agent."""
    held = func.coalesce(WorkItem.assigned_staff_id, WorkItem.offered_to_id)
    rows = db.execute(
        select(held, func.count())
        .where(WorkItem.status.in_(("offered", "assigned")))
        .group_by(held)
    )
    return {int(staff_id): int(count) for staff_id, count in rows if staff_id is not None}


def _on_call(db: Session) -> set[int]:
    held = func.coalesce(WorkItem.assigned_staff_id, WorkItem.offered_to_id)
    return {
        int(staff_id)
        for staff_id in db.scalars(
            select(held).where(
                WorkItem.kind == "call", WorkItem.status.in_(("offered", "assigned"))
            )
        )
        if staff_id is not None
    }


def has_skill(agent: AgentProfile, item: WorkItem) -> bool:
    return (
        item.tier in agent.tiers
        and item.language in agent.languages
        and (not agent.categories or item.category in agent.categories)
    )


def meant_for(agent: AgentProfile, item: WorkItem) -> bool:
    """Whether the item may go to this agent at all: one transferred by name only to the
    colleague named, any other to the agents skilled for its queue. Push routing offers
    and pick mode's taking follow the same rule."""
    if item.target_staff_id is not None:
        return agent.staff_id == item.target_staff_id
    return has_skill(agent, item)


def takes_new_work(agent: AgentProfile) -> bool:
    """Only an online agent gets new work, offered by push routing or taken from the queue
    in pick mode; away and offline agents keep what they hold."""
    return agent.presence == "online"


def busy_for(item: WorkItem, staff_id: int, on_call: Collection[int]) -> bool:
    """Whether the agent is too busy for the item whatever their load: a call needs an
    agent not on one already (``on_call``: those holding or offered a call). Push routing
    offers and pick mode's taking follow the same rule."""
    return item.kind == "call" and staff_id in on_call


def _may_take(agent: AgentProfile, item: WorkItem, load: dict[int, int], on_call: set[int]) -> bool:
    """Online, meant for them, room under capacity; a call needs an agent not already on one."""
    if not takes_new_work(agent) or load.get(agent.staff_id, 0) >= agent.capacity:
        return False
    if busy_for(item, agent.staff_id, on_call):
        return False
    return meant_for(agent, item)


# --- the queue ----------------------------------------------------------------------


def enqueue(
    db: Session,
    *,
    kind: str,
    language: str,
    category: str,
    tier: str = "tier1",
    urgent: bool = False,
    customer_id: int | None = None,
    conversation_id: int | None = None,
    case_id: int | None = None,
    call_sid: str | None = None,
    context: dict[str, Any] | None = None,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> WorkItem:
    """Put work in the queue for a person. A conversation or call already waiting or
    being handled is not queued twice: its open item is returned instead.

    ``context`` is what the agent sees first (intent, facts collected, what was verified,
    a transcript summary); it must already be masked.
    """
    _choice(kind, KINDS, "kind")
    _choice(language, LANGUAGES, "language")
    _choice(category, CATEGORIES, "category")
    _choice(tier, TIERS, "tier")
    now = now or utcnow()
    existing = None
    if conversation_id is not None:
        existing = open_item(db, conversation_id=conversation_id)
    elif call_sid is not None:
        existing = open_item(db, call_sid=call_sid)
    if existing is not None:
        return existing
    item = WorkItem(
        kind=kind,
        status="waiting",
        language=language,
        category=category,
        tier=tier,
        urgent=urgent,
        customer_id=customer_id,
        conversation_id=conversation_id,
        case_id=case_id,
        call_sid=call_sid,
        context=dict(context or {}),
        passed_by=[],
        enqueued_at=now,
        transfers=0,
        updated_at=now,
    )
    db.add(item)
    db.flush()
    _event(db, item, "queued", now, data={"urgent": urgent})
    _record(db, "queued", item, now, data={"urgent": urgent})
    _tell(db, item, "queued")
    dispatch(db, settings=settings, now=now)
    return item


def open_item(
    db: Session,
    *,
    conversation_id: int | None = None,
    call_sid: str | None = None,
    lock: bool = False,
) -> WorkItem | None:
    """The item still waiting or being handled for a conversation or a call, if any."""
    query = select(WorkItem).where(WorkItem.status.in_(OPEN))
    if conversation_id is not None:
        query = query.where(WorkItem.conversation_id == conversation_id)
    elif call_sid is not None:
        query = query.where(WorkItem.call_sid == call_sid)
    else:
        raise InvalidInput("give a conversation or a call")
    if lock:
        query = query.with_for_update()
    return db.scalars(query.order_by(WorkItem.id.desc())).first()


def get_item(db: Session, item_id: int, *, lock: bool = False) -> WorkItem:
    query = select(WorkItem).where(WorkItem.id == item_id)
    if lock:
        query = query.with_for_update()
    item = db.scalars(query).first()
    if item is None:
        raise NotFound("work item not found")
    return item


def _ahead_of(item: WorkItem) -> Any:
    """Items served before ``item``: urgent first, then by arrival."""
    earlier = or_(
        WorkItem.enqueued_at < item.enqueued_at,
        and_(WorkItem.enqueued_at == item.enqueued_at, WorkItem.id < item.id),
    )
    if item.urgent:
        return and_(WorkItem.urgent.is_(True), earlier)
    return or_(WorkItem.urgent.is_(True), earlier)


def average_handle_seconds(
    db: Session, *, tier: str, now: datetime, settings: Settings | None = None
) -> float:
    """Mean time from acceptance to finish of the latest finished items of a tier in the
    last week; the configured default until there is any."""
    settings = settings or get_settings()
    rows = db.execute(
        select(WorkItem.assigned_at, WorkItem.finished_at)
        .where(
            WorkItem.status == "finished",
            WorkItem.tier == tier,
            WorkItem.assigned_at.is_not(None),
            WorkItem.finished_at >= now - HANDLE_TIME_WINDOW,
        )
        .order_by(WorkItem.finished_at.desc())
        .limit(HANDLE_TIME_SAMPLE)
    ).all()
    durations = [
        (finished - assigned).total_seconds()
        for assigned, finished in rows
        if assigned is not None and finished is not None
    ]
    if not durations:
        return float(settings.routing_default_handle_seconds)
    return max(1.0, sum(durations) / len(durations))


def position(
    db: Session, item: WorkItem, now: datetime | None = None, *, settings: Settings | None = None
) -> QueuePosition:
    """Where a waiting item stands in its queue and about how long it will wait.

    The estimator: with ``S`` concurrent slots among the online agents who can take this
    queue, ``F`` of them free now, and ``H`` the average handle time (above), the items up
    to ``F`` are served at once and each further item waits for a slot to free up, which
    happens ``S / H`` times a second: ``wait = max(0, position - F) * H / S``. When no one
    with the skill is online, every agent with the skill counts (they come back), and one
    slot if there is no such agent at all. Items transferred to a colleague by name are
    not in the queue: each waits in that colleague's own (``_named_position``).
    """
    now = now or utcnow()
    if item.status not in UNASSIGNED:
        return QueuePosition(position=0, estimated_wait_seconds=0)
    handle = average_handle_seconds(db, tier=item.tier, now=now, settings=settings)
    if item.target_staff_id is not None:
        return _named_position(db, item, item.target_staff_id, handle)
    ahead = db.scalar(
        select(func.count())
        .select_from(WorkItem)
        .where(
            WorkItem.status.in_(UNASSIGNED),
            WorkItem.target_staff_id.is_(None),
            WorkItem.tier == item.tier,
            WorkItem.language == item.language,
            WorkItem.category == item.category,
            WorkItem.id != item.id,
            _ahead_of(item),
        )
    )
    place = int(ahead or 0) + 1
    skilled = [a for a in db.scalars(select(AgentProfile)) if has_skill(a, item)]
    online = [a for a in skilled if a.presence == "online"]
    load = loads(db)
    slots = sum(a.capacity for a in online) or sum(a.capacity for a in skilled) or 1
    free = sum(max(0, a.capacity - load.get(a.staff_id, 0)) for a in online)
    wait = max(0, place - free) * handle / slots
    return QueuePosition(position=place, estimated_wait_seconds=math.ceil(wait))


def _named_position(db: Session, item: WorkItem, staff_id: int, handle: float) -> QueuePosition:
    """An item transferred by name, in its colleague's own queue (the items sent to her by
    name), estimated from her alone as the estimator above does from a queue's agents:
    offered to her, it is hers now; online, it waits on her load; not online, nothing is
    promised, as she gets nothing until she is."""
    ahead = db.scalar(
        select(func.count())
        .select_from(WorkItem)
        .where(
            WorkItem.status.in_(UNASSIGNED),
            WorkItem.target_staff_id == staff_id,
            WorkItem.id != item.id,
            _ahead_of(item),
        )
    )
    place = int(ahead or 0) + 1
    staff = db.get(StaffUser, staff_id)
    agent = db.scalars(select(AgentProfile).where(AgentProfile.staff_id == staff_id)).first()
    her = NamedWait(
        staff.display_name if staff is not None else "",
        agent.presence if agent is not None else "offline",
    )
    if agent is None or not takes_new_work(agent) or item.status == "offered":
        return QueuePosition(position=place, estimated_wait_seconds=0, waits_for=her)
    free = max(0, agent.capacity - loads(db).get(agent.staff_id, 0))
    wait = max(0, place - free) * handle / agent.capacity
    return QueuePosition(place, math.ceil(wait), waits_for=her)


def _offer(
    db: Session, item: WorkItem, agent: AgentProfile, now: datetime, settings: Settings
) -> None:
    item.status = "offered"
    item.offered_to_id = agent.staff_id
    item.offered_at = now
    item.offer_expires_at = now + timedelta(seconds=settings.routing_offer_seconds)
    item.updated_at = now
    _event(db, item, "offered", now, staff_id=agent.staff_id)
    _tell(db, item, "offered", agent.staff_id)
    # the offer reaches every console page the agent has open, not only the inbox
    staff = db.get(StaffUser, agent.staff_id)
    if staff is not None:
        lang = normalise_lang(staff.language) or "zh-CN"
        notifications.notify(
            db,
            staff_id=staff.id,
            kind="offer",
            body=translate(
                "routing.offer_note",
                lang,
                kind=translate(f"chat.kind.{item.kind}", lang),
                category=translate(f"case.category.{item.category}", lang),
                seconds=settings.routing_offer_seconds,
            ),
            link="/console/inbox",
            now=now,
        )


def _withdraw_offer(
    db: Session, item: WorkItem, now: datetime, *, kind: str, reason: str | None = None
) -> None:
    """Back to waiting; the agent is passed over while someone else can take it, and a
    transfer to them by name falls back to the tier's queue."""
    staff_id = item.offered_to_id
    item.status = "waiting"
    item.offered_to_id = None
    item.offered_at = None
    item.offer_expires_at = None
    if staff_id is not None:
        item.passed_by = [*[s for s in item.passed_by if s != staff_id], staff_id]
    item.target_staff_id = None
    item.updated_at = now
    _event(db, item, kind, now, staff_id=staff_id, reason=reason)
    _tell(db, item, "withdrawn", staff_id)


def expire_offers(
    db: Session, *, settings: Settings | None = None, now: datetime | None = None
) -> int:
    """Offers not accepted in time go back to the queue (and on to the next agent)."""
    settings = settings or get_settings()
    now = now or utcnow()
    lapsed = list(
        db.scalars(
            select(WorkItem)
            .where(WorkItem.status == "offered", WorkItem.offer_expires_at <= now)
            .order_by(WorkItem.id)
            .with_for_update()
        )
    )
    for item in lapsed:
        staff_id = item.offered_to_id
        _withdraw_offer(db, item, now, kind="missed")
        agent = db.get(AgentProfile, staff_id) if staff_id is not None else None
        if agent is not None:
            agent.missed_offers += 1
            if agent.missed_offers >= MISSED_OFFERS_BEFORE_AWAY and agent.presence == "online":
                agent.presence = "away"
                agent.presence_changed_at = now
                bus.after_commit(
                    db,
                    QUEUES_CHANNEL,
                    {"type": "presence", "staff_id": agent.staff_id, "presence": "away"},
                )
                bus.after_commit(
                    db,
                    agent_channel(agent.staff_id),
                    {"type": "presence", "staff_id": agent.staff_id, "presence": "away"},
                )
    if lapsed:
        db.flush()
        dispatch(db, settings=settings, now=now, expire=False)
    return len(lapsed)


def dispatch(
    db: Session,
    *,
    settings: Settings | None = None,
    now: datetime | None = None,
    expire: bool = True,
) -> list[WorkItem]:
    """Offer waiting items to agents (push mode; in pick mode only transfers to a named
    agent are offered). Returns the items offered."""
    settings = settings or get_settings()
    now = now or utcnow()
    if expire:
        expire_offers(db, settings=settings, now=now)
    agents = list(
        db.scalars(
            select(AgentProfile)
            .join(StaffUser, StaffUser.id == AgentProfile.staff_id)
            .where(AgentProfile.presence == "online", StaffUser.is_active.is_(True))
            .order_by(AgentProfile.staff_id)
            .with_for_update(of=AgentProfile)
        )
    )
    if not agents:
        return []
    query = select(WorkItem).where(WorkItem.status == "waiting")
    if settings.routing_mode == "pick":
        query = query.where(WorkItem.target_staff_id.is_not(None))
    waiting = list(
        db.scalars(
            query.order_by(WorkItem.urgent.desc(), WorkItem.enqueued_at, WorkItem.id)
            .limit(500)
            .with_for_update()
        )
    )
    if not waiting:
        return []
    load = loads(db)
    on_call = _on_call(db)
    offered = []
    for item in waiting:
        able = [a for a in agents if _may_take(a, item, load, on_call)]
        fresh = [a for a in able if a.staff_id not in item.passed_by]
        if not fresh and able:
            item.passed_by = []  # everyone had a chance: start the round again
            fresh = able
        if not fresh:
            continue
        chosen = min(
            fresh,
            key=lambda a: (
                load.get(a.staff_id, 0),
                a.last_assigned_at.timestamp() if a.last_assigned_at else 0.0,
                a.staff_id,
            ),
        )
        _offer(db, item, chosen, now, settings)
        load[chosen.staff_id] = load.get(chosen.staff_id, 0) + 1
        if item.kind == "call":
            on_call.add(chosen.staff_id)
        offered.append(item)
    db.flush()
    return offered


def accept(
    db: Session,
    item: WorkItem,
    staff: StaffUser,
    *,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> WorkItem:
    """The agent takes the item: an offer made to them, or (pick mode) an item waiting in a
    queue they have the skills for and room to take, while online as push routing needs.
    An item transferred to a colleague by name is that colleague's alone, as push routing
    offers it to no one else; a supervisor who must move it transfers it again, with the
    reason on record."""
    settings = settings or get_settings()
    now = now or utcnow()
    db.refresh(item, with_for_update=True)
    agent = profile(db, staff, lock=True)
    refused = refusal(db, item, agent, settings=settings)
    if refused is not None:
        raise refused
    item.status = "assigned"
    item.assigned_staff_id = staff.id
    item.assigned_at = now
    item.offered_to_id = None
    item.offer_expires_at = None
    item.target_staff_id = None
    item.updated_at = now
    agent.last_assigned_at = now
    agent.missed_offers = 0
    _event(db, item, "accepted", now, staff_id=staff.id)
    _record(db, "answered_by_agent", item, now, staff_id=staff.id)
    _tell(db, item, "assigned", staff.id)
    db.flush()
    return item


def _not_there_for(db: Session, item: WorkItem, staff_id: int) -> KefuError | None:
    """Why an item not offered to the agent is not theirs to answer, when the item itself
    says: taken (by them or a colleague), ended, or waiting for a colleague named in a
    transfer. A take and a decline refuse with the same words."""
    if item.status == "assigned":
        if item.assigned_staff_id == staff_id:
            return AlreadyYours()
        return TakenByColleague()
    if item.status not in UNASSIGNED:
        return NoLongerWaiting()
    if item.target_staff_id not in (None, staff_id):
        named = db.get(StaffUser, item.target_staff_id)
        return TransferredToColleague(name=named.display_name if named else "")
    return None


def refusal(
    db: Session,
    item: WorkItem,
    agent: AgentProfile,
    *,
    settings: Settings | None = None,
    load: int | None = None,
) -> KefuError | None:
    """Why the agent may not take the item as it stands (one of ``REFUSALS``), or None when
    they may: ``accept`` raises it, the inbox shows a take button only where it is None and
    words it after a refused take. ``load``: the agent's open items, when the caller has
    counted them already."""
    settings = settings or get_settings()
    if item.status == "offered" and item.offered_to_id == agent.staff_id:
        return None
    gone = _not_there_for(db, item, agent.staff_id)
    if gone is not None:
        return gone
    if item.status == "offered" or settings.routing_mode != "pick":
        return OfferLapsed()
    if not meant_for(agent, item):
        missing = {
            "tier": item.tier if item.tier not in agent.tiers else None,
            "language": item.language if item.language not in agent.languages else None,
            "category": item.category
            if agent.categories and item.category not in agent.categories
            else None,
        }
        return NotSkilled(**{k: v for k, v in missing.items() if v is not None})
    if not takes_new_work(agent):
        return NotOnline(presence=agent.presence)
    # who is on a call is read only for a call
    if item.kind == "call" and busy_for(item, agent.staff_id, _on_call(db)):
        return OnCall()
    if (loads(db).get(agent.staff_id, 0) if load is None else load) >= agent.capacity:
        return AtCapacity(capacity=agent.capacity)
    return None


def decline_refusal(db: Session, item: WorkItem, staff_id: int) -> KefuError | None:
    """Why the agent cannot decline the item as it stands, or None while it is offered to
    them: the reason a take would give when the item says it, else the offer lapsed (it
    ran out, or went back to the queue)."""
    if item.status == "offered" and item.offered_to_id == staff_id:
        return None
    return _not_there_for(db, item, staff_id) or OfferLapsed()


def decline(
    db: Session,
    item: WorkItem,
    staff: StaffUser,
    *,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> WorkItem:
    """The agent passes on an offer; it goes to the next agent at once. An offer no longer
    there is refused with the reason (``decline_refusal``)."""
    now = now or utcnow()
    db.refresh(item, with_for_update=True)
    refused = decline_refusal(db, item, staff.id)
    if refused is not None:
        raise refused
    _withdraw_offer(db, item, now, kind="declined")
    db.flush()
    dispatch(db, settings=settings, now=now, expire=False)
    return item


def transfer(
    db: Session,
    item: WorkItem,
    *,
    by: StaffUser,
    reason: str,
    to_staff: StaffUser | None = None,
    to_tier: str | None = None,
    even_if_not_online: bool = False,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> WorkItem:
    """Hand an item to a named agent or to a tier's queue, with the reason the next agent
    reads. Only the agent holding it (or a supervisor) may. The customer keeps their place:
    the item keeps its arrival time.

    A named colleague who is not online gets nothing until they are (push and pick alike),
    so the customer would wait on them: that is refused with ``ColleagueNotOnline`` unless
    the one transferring, told so, chose it (``even_if_not_online``), as when the colleague
    who knows the customer is on a short break. A supervisor transferring it to themselves
    takes it over, which needs them online as any take does (``NotOnline``)."""
    now = now or utcnow()
    reason = reason.strip()
    if not reason:
        raise InvalidInput("a transfer needs a reason", field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput("reason too long", field="reason", max=MAX_REASON)
    if (to_staff is None) == (to_tier is None):
        raise InvalidInput("transfer to an agent or to a tier", field="to")
    if to_tier is not None:
        _choice(to_tier, TIERS, "tier")
    db.refresh(item, with_for_update=True)
    if item.status not in OPEN:
        raise Conflict("the item is finished", reason="finished")
    holder = item.assigned_staff_id or item.offered_to_id
    if holder != by.id and not has_permission(by.role, "routing.supervise"):
        raise PermissionDenied("only the agent holding the item or a supervisor")
    if to_staff is not None and (to_staff.id == holder or not to_staff.is_active):
        raise InvalidInput("choose another active agent", field="to")
    if to_staff is not None and to_staff.id == by.id:
        # taking it over: the rule of a take, "anyway" or not (the customer would wait on
        # someone not working)
        mine = profile_as_is(db, by)
        if not takes_new_work(mine):
            raise NotOnline(presence=mine.presence)
    elif to_staff is not None and not even_if_not_online:
        named = profile_as_is(db, to_staff)
        if not takes_new_work(named):
            raise ColleagueNotOnline(name=to_staff.display_name, presence=named.presence)
    previous = holder
    item.status = "waiting"
    item.assigned_staff_id = None
    item.assigned_at = None
    item.offered_to_id = None
    item.offered_at = None
    item.offer_expires_at = None
    item.target_staff_id = to_staff.id if to_staff is not None else None
    if to_tier is not None:
        item.tier = to_tier
    item.passed_by = [previous] if previous is not None else []
    item.transfers += 1
    item.context = {**item.context, "transfer_reason": reason}
    item.updated_at = now
    _event(
        db,
        item,
        "transferred",
        now,
        staff_id=by.id,
        reason=reason,
        data={
            "from_staff_id": previous,
            "to_staff_id": to_staff.id if to_staff is not None else None,
            "to_tier": to_tier,
        },
    )
    _record(db, "transferred", item, now, staff_id=previous, data={"reason": reason[:200]})
    _record(db, "queued", item, now, data={"transfer": True})
    _tell(db, item, "transferred", previous)
    db.flush()
    dispatch(db, settings=settings, now=now, expire=False)
    return item


def _close(db: Session, item: WorkItem, status: str, now: datetime) -> int | None:
    holder = item.assigned_staff_id or item.offered_to_id
    item.status = status
    item.finished_at = now
    item.offered_to_id = None
    item.offer_expires_at = None
    item.updated_at = now
    return holder


def cancel(
    db: Session,
    item: WorkItem,
    *,
    reason: str,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> WorkItem:
    """The work went away before it was done: the customer abandoned or left, the caller
    took a call-back instead. Cancelling a finished or cancelled item is a no-op."""
    reason = reason.strip()
    if not reason or len(reason) > 40:
        raise InvalidInput("a short cancel reason is needed", field="reason")
    now = now or utcnow()
    db.refresh(item, with_for_update=True)
    if item.status not in OPEN:
        return item
    was_assigned = item.status == "assigned"
    holder = _close(db, item, "cancelled", now)
    item.cancel_reason = reason
    if not was_assigned and reason in ABANDON_REASONS:
        _record(db, "abandoned", item, now, data={"reason": reason})
    _event(db, item, "cancelled", now, staff_id=holder, reason=reason)
    _tell(db, item, "cancelled", holder)
    db.flush()
    dispatch(db, settings=settings, now=now, expire=False)
    return item


def finish(
    db: Session, item: WorkItem, now: datetime | None = None, *, settings: Settings | None = None
) -> WorkItem:
    """The agent is done with the item; their slot is free for the next one."""
    now = now or utcnow()
    db.refresh(item, with_for_update=True)
    if item.status == "finished":
        return item
    if item.status != "assigned":
        raise Conflict("only an accepted item can be finished", reason="not_assigned")
    holder = _close(db, item, "finished", now)
    _event(db, item, "finished", now, staff_id=holder)
    _tell(db, item, "finished", holder)
    db.flush()
    dispatch(db, settings=settings, now=now, expire=False)
    return item


# --- views ---------------------------------------------------------------------------


def items_of(db: Session, staff_id: int) -> list[WorkItem]:
    """Items offered to or held by an agent, offers first."""
    return list(
        db.scalars(
            select(WorkItem)
            .where(
                WorkItem.status.in_(("offered", "assigned")),
                or_(WorkItem.assigned_staff_id == staff_id, WorkItem.offered_to_id == staff_id),
            )
            .order_by(WorkItem.status.desc(), WorkItem.urgent.desc(), WorkItem.enqueued_at)
        )
    )


def waiting(db: Session, *, limit: int = 200) -> list[WorkItem]:
    """The unassigned queue, in the order it is served."""
    return list(
        db.scalars(
            select(WorkItem)
            .where(WorkItem.status.in_(UNASSIGNED))
            .order_by(WorkItem.urgent.desc(), WorkItem.enqueued_at, WorkItem.id)
            .limit(limit)
        )
    )


def count_waiting_for(db: Session, agent: AgentProfile) -> int:
    """Customers waiting for a person in the queues the agent serves (their tiers,
    languages and categories, or sent to them by name), whether or not the agent is online
    or has room: what is queued for them, beside what is offered to them. Items offered to
    another agent count, as their customers still wait; offers to this agent do not."""
    skilled = and_(
        WorkItem.target_staff_id.is_(None),
        WorkItem.tier.in_(agent.tiers),
        WorkItem.language.in_(agent.languages),
    )
    if agent.categories:
        skilled = and_(skilled, WorkItem.category.in_(agent.categories))
    count = db.scalar(
        select(func.count())
        .select_from(WorkItem)
        .where(
            or_(
                WorkItem.status == "waiting",
                and_(WorkItem.status == "offered", WorkItem.offered_to_id != agent.staff_id),
            ),
            or_(skilled, WorkItem.target_staff_id == agent.staff_id),
        )
    )
    return int(count or 0)


def history(db: Session, item: WorkItem) -> list[WorkItemEvent]:
    return list(
        db.scalars(
            select(WorkItemEvent).where(WorkItemEvent.item_id == item.id).order_by(WorkItemEvent.id)
        )
    )


@dataclass(frozen=True)
class QueueRow:
    tier: str
    language: str
    category: str
    waiting: int
    urgent: int
    oldest_wait_seconds: int


@dataclass(frozen=True)
class AgentRow:
    staff_id: int
    username: str
    display_name: str
    presence: str
    load: int
    capacity: int
    languages: list[str]
    categories: list[str]
    tiers: list[str]


@dataclass(frozen=True)
class Snapshot:
    queues: list[QueueRow]
    agents: list[AgentRow]
    waiting: list[WorkItem]
    # by item id, the waiting items transferred to a colleague by name
    named: dict[int, NamedWait]


def snapshot(db: Session, now: datetime | None = None) -> Snapshot:
    """The supervisor's live view: queues, the customers waiting, agents and their load."""
    now = now or utcnow()
    items = waiting(db, limit=500)
    grouped: dict[tuple[str, str, str], list[WorkItem]] = {}
    for item in items:
        grouped.setdefault((item.tier, item.language, item.category), []).append(item)
    queues = [
        QueueRow(
            tier=key[0],
            language=key[1],
            category=key[2],
            waiting=len(members),
            urgent=sum(1 for m in members if m.urgent),
            oldest_wait_seconds=int(max((now - m.enqueued_at).total_seconds() for m in members)),
        )
        for key, members in sorted(grouped.items())
    ]
    return Snapshot(
        queues=queues, agents=agent_rows(db), waiting=items, named=named_waits(db, items)
    )


def agent_rows(db: Session) -> list[AgentRow]:
    """Every active staff member who may work chats, online first: one who has never been
    online has no profile yet and is listed offline with the skills a first use would give
    them, so a supervisor sees who is missing, not only who came."""
    load = loads(db)
    found = {agent.staff_id: agent for agent in db.scalars(select(AgentProfile))}
    rows = []
    for user in db.scalars(select(StaffUser).where(StaffUser.is_active.is_(True))):
        if not has_permission(user.role, "chat.work"):
            continue
        agent = found.get(user.id) or _first_profile(user)
        rows.append(
            AgentRow(
                staff_id=user.id,
                username=user.username,
                display_name=user.display_name,
                presence=agent.presence,
                load=load.get(user.id, 0),
                capacity=agent.capacity,
                languages=list(agent.languages),
                categories=list(agent.categories),
                tiers=list(agent.tiers),
            )
        )
    return sorted(rows, key=lambda a: (PRESENCES.index(a.presence), a.username))


def presences(db: Session, staff_ids: Collection[int]) -> dict[int, str]:
    """Each staff member's presence; one never routed yet is offline."""
    found: dict[int, str] = {}
    if staff_ids:
        rows = db.execute(
            select(AgentProfile.staff_id, AgentProfile.presence).where(
                AgentProfile.staff_id.in_(staff_ids)
            )
        )
        found = {row.staff_id: row.presence for row in rows}
    return {staff_id: found.get(staff_id, "offline") for staff_id in staff_ids}


def named_waits(db: Session, items: Sequence[WorkItem]) -> dict[int, NamedWait]:
    """By item id, the colleague each item was transferred to by name and their presence:
    the supervisor's live queues and the agents' inbox show the same."""
    targets = {i.target_staff_id for i in items if i.target_staff_id is not None}
    present = presences(db, targets)
    named = {}
    for item in items:
        user = db.get(StaffUser, item.target_staff_id) if item.target_staff_id else None
        if user is not None:
            named[item.id] = NamedWait(user.display_name, present[user.id])
    return named
