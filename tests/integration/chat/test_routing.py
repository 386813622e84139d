"""Routing rules, driven through the service with an explicit clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session
from tests.factories import make_staff

from kefu.chat import routing
from kefu.config import Settings
from kefu.errors import Conflict, InvalidInput, PermissionDenied
from kefu.identity.models import StaffUser

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def online(
    db: Session,
    settings: Settings,
    role: str = "agent",
    *,
    languages: tuple[str, ...] = ("zh-CN",),
    categories: tuple[str, ...] = (),
    capacity: int = 3,
    now: datetime = T0,
) -> StaffUser:
    staff = make_staff(db, role)
    routing.set_skills(
        db,
        staff,
        languages=languages,
        categories=categories,
        tiers=routing.DEFAULT_TIERS[role],
        capacity=capacity,
    )
    routing.set_presence(db, staff, "online", settings=settings, now=now)
    return staff


def chat(
    db: Session, settings: Settings, *, now: datetime = T0, **kwargs: object
) -> routing.WorkItem:
    values: dict[str, object] = {
        "kind": "chat",
        "language": "zh-CN",
        "category": "recharge_not_credited",
    }
    values.update(kwargs)
    return routing.enqueue(db, now=now, settings=settings, **values)  # type: ignore[arg-type]


def test_waits_with_no_agent_and_estimate_uses_default_handle_time(
    db: Session, settings: Settings
) -> None:
    item = chat(db, settings, context={"intent": "recharge_not_credited"})
    assert item.status == "waiting"
    place = routing.position(db, item, T0, settings=settings)
    assert place.position == 1
    # no agent with the skill at all: one slot, default handle time
    assert place.estimated_wait_seconds == settings.routing_default_handle_seconds
    assert [e.kind for e in routing.history(db, item)] == ["queued"]


def test_offered_to_the_skilled_agent_and_accepted(db: Session, settings: Settings) -> None:
    english = online(db, settings, languages=("en",))
    chinese = online(db, settings)
    item = chat(db, settings)
    assert item.status == "offered"
    assert item.offered_to_id == chinese.id
    assert item.offer_expires_at == T0 + timedelta(seconds=settings.routing_offer_seconds)
    with pytest.raises(Conflict):
        routing.accept(db, item, english, settings=settings, now=T0)
    routing.accept(db, item, chinese, settings=settings, now=T0 + timedelta(seconds=5))
    assert item.status == "assigned"
    assert item.assigned_staff_id == chinese.id
    assert routing.position(db, item, T0) == routing.QueuePosition(0, 0)
    assert [i.id for i in routing.items_of(db, chinese.id)] == [item.id]


def test_least_loaded_agent_gets_the_next_item(db: Session, settings: Settings) -> None:
    first = online(db, settings)
    second = online(db, settings)
    a = chat(db, settings)
    b = chat(db, settings)
    c = chat(db, settings)
    assert {a.offered_to_id, b.offered_to_id} == {first.id, second.id}
    loads = routing.loads(db)
    assert loads[first.id] + loads[second.id] == 3
    assert abs(loads[first.id] - loads[second.id]) == 1
    assert c.offered_to_id in (first.id, second.id)


def test_category_skills_and_capacity(db: Session, settings: Settings) -> None:
    refunds_only = online(db, settings, categories=("refund",), capacity=1)
    other = chat(db, settings)
    assert other.status == "waiting"  # no one does recharges
    refund = chat(db, settings, category="refund")
    assert refund.offered_to_id == refunds_only.id
    second_refund = chat(db, settings, category="refund")
    assert second_refund.status == "waiting"  # capacity 1 is full
    routing.accept(db, refund, refunds_only, settings=settings, now=T0)
    routing.finish(db, refund, T0 + timedelta(minutes=4), settings=settings)
    assert second_refund.status == "offered"


def test_urgent_items_go_first(db: Session, settings: Settings) -> None:
    early = chat(db, settings)
    later = chat(db, settings, now=T0 + timedelta(seconds=10))
    urgent = chat(
        db, settings, now=T0 + timedelta(seconds=20), urgent=True, category="recharge_not_credited"
    )
    now = T0 + timedelta(seconds=30)
    assert routing.position(db, urgent, now).position == 1
    assert routing.position(db, early, now).position == 2
    assert routing.position(db, later, now).position == 3
    agent = online(db, settings, capacity=1, now=now)
    assert urgent.offered_to_id == agent.id
    assert early.status == "waiting"


def test_lapsed_offer_goes_to_the_next_agent_and_two_misses_mean_away(
    db: Session, settings: Settings
) -> None:
    sleepy = online(db, settings)
    item = chat(db, settings)
    assert item.offered_to_id == sleepy.id
    awake = online(db, settings, now=T0 + timedelta(seconds=1))
    # the offer is still running: nothing moves
    assert routing.expire_offers(db, settings=settings, now=T0 + timedelta(seconds=10)) == 0
    late = T0 + timedelta(seconds=settings.routing_offer_seconds + 1)
    assert routing.expire_offers(db, settings=settings, now=late) == 1
    assert item.offered_to_id == awake.id
    assert item.passed_by == [sleepy.id]
    kinds = [e.kind for e in routing.history(db, item)]
    assert kinds == ["queued", "offered", "missed", "offered"]
    profile = routing.profile(db, sleepy)
    assert profile.presence == "online" and profile.missed_offers == 1
    routing.set_presence(db, awake, "away", settings=settings, now=late)
    assert item.offered_to_id == sleepy.id  # the only one left gets it again
    routing.expire_offers(db, settings=settings, now=late + timedelta(minutes=1))
    assert routing.profile(db, sleepy).presence == "away"
    assert item.status == "waiting"


def test_decline_moves_on_at_once(db: Session, settings: Settings) -> None:
    a = online(db, settings)
    b = online(db, settings)
    item = chat(db, settings)
    first = item.offered_to_id
    holder = a if first == a.id else b
    routing.decline(db, item, holder, settings=settings, now=T0)
    assert item.offered_to_id == (b.id if holder is a else a.id)


def test_going_offline_hands_back_offers(db: Session, settings: Settings) -> None:
    a = online(db, settings)
    item = chat(db, settings)
    routing.set_presence(db, a, "offline", settings=settings, now=T0)
    assert item.status == "waiting"
    assert routing.profile(db, a).presence == "offline"


def test_transfer_to_tier_needs_a_reason_and_keeps_the_place(
    db: Session, settings: Settings
) -> None:
    agent = online(db, settings)
    item = chat(db, settings)
    routing.accept(db, item, agent, settings=settings, now=T0)
    with pytest.raises(InvalidInput):
        routing.transfer(db, item, by=agent, reason="  ", to_tier="tier2", settings=settings)
    with pytest.raises(InvalidInput):
        routing.transfer(db, item, by=agent, reason="x", settings=settings)
    specialist = online(db, settings, "specialist")
    routing.transfer(
        db, item, by=agent, reason="需要技术支持", to_tier="tier2", settings=settings, now=T0
    )
    assert item.tier == "tier2"
    assert item.offered_to_id == specialist.id
    assert item.enqueued_at == T0
    assert item.transfers == 1
    assert item.context["transfer_reason"] == "需要技术支持"
    moved = [e for e in routing.history(db, item) if e.kind == "transferred"]
    assert moved[0].reason == "需要技术支持"
    assert moved[0].data == {"from_staff_id": agent.id, "to_staff_id": None, "to_tier": "tier2"}


def test_transfer_to_a_named_agent_and_only_the_holder_may(db: Session, settings: Settings) -> None:
    holder = online(db, settings)
    colleague = online(db, settings, capacity=5)
    item = chat(db, settings)
    taker = holder if item.offered_to_id == holder.id else colleague
    other = colleague if taker is holder else holder
    routing.accept(db, item, taker, settings=settings, now=T0)
    with pytest.raises(PermissionDenied):
        routing.transfer(db, item, by=other, reason="mine now", to_tier="tier1")
    routing.transfer(db, item, by=taker, reason="熟悉此客户", to_staff=other, settings=settings)
    assert item.offered_to_id == other.id
    assert item.target_staff_id == other.id
    supervisor = make_staff(db, "supervisor")
    routing.accept(db, item, other, settings=settings)
    routing.transfer(
        db, item, by=supervisor, reason="rebalance", to_tier="tier1", settings=settings
    )
    assert item.offered_to_id == taker.id  # the transferring holder is passed over


def test_cancel_frees_the_slot_and_is_idempotent(db: Session, settings: Settings) -> None:
    agent = online(db, settings, capacity=1)
    first = chat(db, settings)
    second = chat(db, settings)
    routing.accept(db, first, agent, settings=settings, now=T0)
    assert second.status == "waiting"
    routing.cancel(db, first, reason="customer_left", now=T0, settings=settings)
    assert first.status == "cancelled" and first.cancel_reason == "customer_left"
    assert second.offered_to_id == agent.id
    routing.cancel(db, first, reason="again", now=T0)
    assert first.cancel_reason == "customer_left"
    with pytest.raises(InvalidInput):
        routing.cancel(db, second, reason="")


def test_estimate_follows_recent_handle_times(db: Session, settings: Settings) -> None:
    agent = online(db, settings, capacity=2)
    for minutes in (4, 6):
        done = chat(db, settings)
        routing.accept(db, done, agent, settings=settings, now=T0)
        routing.finish(db, done, T0 + timedelta(minutes=minutes), settings=settings)
    now = T0 + timedelta(minutes=10)
    assert routing.average_handle_seconds(db, tier="tier1", now=now) == 300
    busy = [chat(db, settings, now=now) for _ in range(2)]
    for item in busy:
        routing.accept(db, item, agent, settings=settings, now=now)
    queued = [chat(db, settings, now=now + timedelta(seconds=i)) for i in range(3)]
    # 2 slots, none free, 300 s each: third in line waits 3 * 300 / 2
    place = routing.position(db, queued[2], now)
    assert place == routing.QueuePosition(position=3, estimated_wait_seconds=450)
    with pytest.raises(Conflict):
        routing.finish(db, queued[0], now)


def test_pick_mode_offers_nothing_and_agents_pick(db: Session, settings: Settings) -> None:
    picking = settings.model_copy(update={"routing_mode": "pick"})
    agent = online(db, picking, capacity=1)
    english = online(db, picking, languages=("en",))
    item = chat(db, picking)
    other = chat(db, picking)
    assert item.status == "waiting"
    with pytest.raises(PermissionDenied):
        routing.accept(db, item, english, settings=picking, now=T0)
    routing.accept(db, item, agent, settings=picking, now=T0)
    assert item.status == "assigned"
    with pytest.raises(Conflict):
        routing.accept(db, other, agent, settings=picking, now=T0)


def test_one_open_item_per_conversation_or_call(db: Session, settings: Settings) -> None:
    call = chat(db, settings, kind="call", call_sid="CA123")
    assert chat(db, settings, kind="call", call_sid="CA123").id == call.id
    routing.cancel(db, call, reason="callback", now=T0)
    assert chat(db, settings, kind="callback", call_sid="CA123").id != call.id


def test_a_call_needs_an_agent_not_on_a_call(db: Session, settings: Settings) -> None:
    agent = online(db, settings)
    first = chat(db, settings, kind="call", call_sid="CA1")
    second = chat(db, settings, kind="call", call_sid="CA2")
    text = chat(db, settings)
    assert first.offered_to_id == agent.id
    assert second.status == "waiting"
    assert text.offered_to_id == agent.id


def test_pick_mode_an_agent_on_a_call_takes_no_second_call_as_none_is_offered(
    db: Session, settings: Settings
) -> None:
    """Taking from the queue follows the offering's rule: one call at a time, an offered
    call counting as one; a chat is still theirs to take."""
    picking = settings.model_copy(update={"routing_mode": "pick"})
    agent = online(db, picking)
    first = chat(db, picking, kind="call", call_sid="CA1")
    second = chat(db, picking, kind="call", call_sid="CA2")
    text = chat(db, picking)
    routing.accept(db, first, agent, settings=picking, now=T0)
    refused = routing.refusal(db, second, routing.profile(db, agent), settings=picking)
    assert isinstance(refused, routing.OnCall)
    with pytest.raises(routing.OnCall):
        routing.accept(db, second, agent, settings=picking, now=T0)
    assert second.status == "waiting"
    routing.accept(db, text, agent, settings=picking, now=T0)
    routing.finish(db, first, T0, settings=picking)
    routing.accept(db, second, agent, settings=picking, now=T0)
    assert second.assigned_staff_id == agent.id


@pytest.mark.parametrize(
    ("field", "value"),
    [("kind", "fax"), ("language", "fr"), ("category", "nope"), ("tier", "tier9")],
)
def test_unknown_values_are_refused(
    db: Session, settings: Settings, field: str, value: str
) -> None:
    with pytest.raises(InvalidInput):
        chat(db, settings, **{field: value})


def test_skills_are_checked(db: Session) -> None:
    staff = make_staff(db)
    with pytest.raises(InvalidInput):
        routing.set_skills(db, staff, languages=(), categories=(), tiers=("tier1",), capacity=2)
    with pytest.raises(InvalidInput):
        routing.set_skills(
            db, staff, languages=("en",), categories=(), tiers=("tier1",), capacity=0
        )
    with pytest.raises(InvalidInput):
        routing.set_presence(db, staff, "busy")


def test_supervisor_snapshot(db: Session, settings: Settings) -> None:
    agent = online(db, settings, capacity=1)
    chat(db, settings)
    chat(db, settings, urgent=True, now=T0 + timedelta(seconds=5))
    view = routing.snapshot(db, T0 + timedelta(minutes=2))
    row = next(a for a in view.agents if a.staff_id == agent.id)
    assert (row.load, row.capacity, row.presence) == (1, 1, "online")
    queue = next(q for q in view.queues if q.category == "recharge_not_credited")
    assert (queue.waiting, queue.urgent, queue.oldest_wait_seconds) == (2, 1, 120)
    assert view.waiting[0].urgent


def test_the_snapshot_lists_every_agent_even_one_never_online(
    db: Session, settings: Settings
) -> None:
    """A supervisor sees who is missing: a colleague who has never been online is listed
    offline with the skills and capacity a first use would give; one who left is not."""
    on = online(db, settings)
    never = make_staff(db, "specialist")
    left = make_staff(db, "agent")
    left.is_active = False
    view = routing.snapshot(db, T0)
    rows = {a.staff_id: a for a in view.agents}
    assert rows[on.id].presence == "online"
    row = rows[never.id]
    capacity = settings.routing_default_capacity
    assert (row.presence, row.load, row.capacity) == ("offline", 0, capacity)
    assert (row.languages, row.tiers) == ([never.language], ["tier1", "tier2"])
    assert left.id not in rows
    assert [a.staff_id for a in view.agents].index(on.id) == 0  # the online ones first
    assert routing.profile_as_is(db, never) not in db  # reading wrote no profile


def test_pick_mode_a_chat_transferred_by_name_is_that_agents_alone(
    db: Session, settings: Settings
) -> None:
    picking = settings.model_copy(update={"routing_mode": "pick"})
    holder = online(db, picking)
    other = online(db, picking)
    supervisor = online(db, picking, "supervisor")
    named = make_staff(db, "agent")  # offline: the transfer waits for her
    item = chat(db, picking)
    routing.accept(db, item, holder, settings=picking, now=T0)
    routing.transfer(
        db,
        item,
        by=holder,
        reason="熟悉此客户",
        to_staff=named,
        even_if_not_online=True,
        settings=picking,
    )
    assert (item.status, item.target_staff_id) == ("waiting", named.id)
    for taker in (other, supervisor):
        with pytest.raises(routing.TransferredToColleague) as refused:
            routing.accept(db, item, taker, settings=picking, now=T0)
        assert refused.value.params == {"name": named.display_name}


@pytest.mark.parametrize("presence", ["away", "offline"])
def test_pick_mode_only_an_online_agent_takes_work_as_only_one_is_offered_it(
    db: Session, settings: Settings, presence: str
) -> None:
    picking = settings.model_copy(update={"routing_mode": "pick"})
    agent = online(db, picking)
    routing.set_presence(db, agent, presence, settings=picking, now=T0)
    item = chat(db, picking)
    with pytest.raises(routing.NotOnline) as refused:
        routing.accept(db, item, agent, settings=picking, now=T0)
    assert refused.value.params == {"presence": presence}
    assert item.status == "waiting"
    routing.set_presence(db, agent, "online", settings=picking, now=T0)
    routing.accept(db, item, agent, settings=picking, now=T0)
    assert (item.status, item.assigned_staff_id) == ("assigned", agent.id)


def test_pick_mode_a_colleague_named_in_a_transfer_takes_it_once_online(
    db: Session, settings: Settings
) -> None:
    picking = settings.model_copy(update={"routing_mode": "pick"})
    holder = online(db, picking)
    named = make_staff(db, "agent")  # offline: the transfer waits for her
    item = chat(db, picking)
    routing.accept(db, item, holder, settings=picking, now=T0)
    routing.transfer(
        db,
        item,
        by=holder,
        reason="熟悉此客户",
        to_staff=named,
        even_if_not_online=True,
        settings=picking,
    )
    with pytest.raises(routing.NotOnline):
        routing.accept(db, item, named, settings=picking, now=T0)
    routing.set_presence(db, named, "online", settings=picking, now=T0)
    assert item.offered_to_id == named.id  # push routing's rule: offered once she is online
    routing.accept(db, item, named, settings=picking, now=T0)
    assert item.assigned_staff_id == named.id


def test_declining_an_offer_no_longer_there_says_why(db: Session, settings: Settings) -> None:
    first = online(db, settings)
    second = online(db, settings)
    item = chat(db, settings)
    offered = first if item.offered_to_id == first.id else second
    other = second if offered is first else first
    with pytest.raises(routing.OfferLapsed):
        routing.decline(db, item, other, settings=settings, now=T0)
    routing.accept(db, item, offered, settings=settings, now=T0)
    with pytest.raises(routing.AlreadyYours):
        routing.decline(db, item, offered, settings=settings, now=T0)
    with pytest.raises(routing.TakenByColleague):
        routing.decline(db, item, other, settings=settings, now=T0)
    routing.finish(db, item, T0, settings=settings)
    with pytest.raises(routing.NoLongerWaiting):
        routing.decline(db, item, offered, settings=settings, now=T0)


def test_declining_a_chat_transferred_to_a_colleague_meanwhile_names_her(
    db: Session, settings: Settings
) -> None:
    agent = online(db, settings)
    item = chat(db, settings)
    assert item.offered_to_id == agent.id
    supervisor = make_staff(db, "supervisor")
    named = make_staff(db, "agent")
    routing.transfer(
        db,
        item,
        by=supervisor,
        reason="老客户",
        to_staff=named,
        even_if_not_online=True,
        settings=settings,
    )
    with pytest.raises(routing.TransferredToColleague) as refused:
        routing.decline(db, item, agent, settings=settings, now=T0)
    assert refused.value.params == {"name": named.display_name}


@pytest.mark.parametrize("presence", ["away", "offline"])
def test_a_transfer_by_name_to_a_colleague_not_online_needs_the_senders_word(
    db: Session, settings: Settings, presence: str
) -> None:
    holder = online(db, settings)
    named = online(db, settings)
    routing.set_presence(db, named, presence, settings=settings, now=T0)
    item = chat(db, settings)
    routing.accept(db, item, holder, settings=settings, now=T0)
    with pytest.raises(routing.ColleagueNotOnline) as refused:
        routing.transfer(db, item, by=holder, reason="熟悉此客户", to_staff=named)
    assert refused.value.params == {"name": named.display_name, "presence": presence}
    assert (item.status, item.assigned_staff_id) == ("assigned", holder.id)
    routing.transfer(
        db, item, by=holder, reason="熟悉此客户", to_staff=named, even_if_not_online=True
    )
    assert (item.status, item.target_staff_id) == ("waiting", named.id)
    view = routing.snapshot(db, T0)
    assert view.named[item.id] == routing.NamedWait(named.display_name, presence)


def test_a_colleague_never_online_counts_as_offline(db: Session, settings: Settings) -> None:
    holder = online(db, settings)
    item = chat(db, settings)
    routing.accept(db, item, holder, settings=settings, now=T0)
    with pytest.raises(routing.ColleagueNotOnline) as refused:
        routing.transfer(db, item, by=holder, reason="x", to_staff=make_staff(db))
    assert refused.value.params["presence"] == "offline"


def test_a_supervisor_not_online_cannot_take_a_chat_over_until_online(
    db: Session, settings: Settings
) -> None:
    """Transferring a chat to oneself is taking it over: new work goes to online agents
    only, so a supervisor away or offline is refused as a take would be (``NotOnline``,
    not the colleague's warning, and "anyway" does not apply: the customer would wait on
    someone who is not working). Online, it is offered to them."""
    holder = online(db, settings)
    supervisor = make_staff(db, "supervisor")  # never online
    item = chat(db, settings)
    routing.accept(db, item, holder, settings=settings, now=T0)
    for anyway in (False, True):
        with pytest.raises(routing.NotOnline) as refused:
            routing.transfer(
                db,
                item,
                by=supervisor,
                reason="接管",
                to_staff=supervisor,
                even_if_not_online=anyway,
            )
        assert refused.value.params == {"presence": "offline"}
    assert (item.status, item.assigned_staff_id) == ("assigned", holder.id)
    routing.set_presence(db, supervisor, "online", settings=settings, now=T0)
    routing.transfer(db, item, by=supervisor, reason="接管", to_staff=supervisor, now=T0)
    assert (item.status, item.offered_to_id) == ("offered", supervisor.id)


def test_a_chat_sent_to_a_colleague_by_name_is_estimated_from_her_alone(
    db: Session, settings: Settings
) -> None:
    """The chat waits for her alone, so colleagues free now do not shorten its wait: online
    and free, it is hers at once; busy, it waits on her load; not online, no wait is
    promised at all."""
    holder = online(db, settings, capacity=3)
    free = online(db, settings, capacity=3)  # free all along, and no help to this customer
    named = online(db, settings, capacity=1)
    item = chat(db, settings)
    routing.accept(db, item, holder, settings=settings, now=T0)
    routing.transfer(db, item, by=holder, reason="熟悉此客户", to_staff=named, now=T0)
    assert item.offered_to_id == named.id
    place = routing.position(db, item, T0, settings=settings)
    her = routing.NamedWait(named.display_name, "online")
    assert place == routing.QueuePosition(1, 0, waits_for=her)
    assert place.promised

    routing.accept(db, item, named, settings=settings, now=T0)  # her one place is full now
    later = chat(db, settings)
    taker = holder if later.offered_to_id == holder.id else free
    routing.accept(db, later, taker, settings=settings, now=T0)
    routing.transfer(db, later, by=taker, reason="同一位客户", to_staff=named, now=T0)
    assert later.status == "waiting"
    place = routing.position(db, later, T0, settings=settings)
    # one slot, none free, the default handle time: a whole handle time, not 0
    assert place == routing.QueuePosition(1, settings.routing_default_handle_seconds, her)

    routing.set_presence(db, named, "away", settings=settings, now=T0)
    place = routing.position(db, later, T0, settings=settings)
    assert place.waits_for == routing.NamedWait(named.display_name, "away")
    assert not place.promised
    assert place.estimated_wait_seconds == 0


def test_chats_sent_to_a_colleague_by_name_are_not_ahead_in_the_queue(
    db: Session, settings: Settings
) -> None:
    holder = online(db, settings, capacity=1)
    sent = chat(db, settings)
    routing.accept(db, sent, holder, settings=settings, now=T0)
    routing.transfer(
        db,
        sent,
        by=holder,
        reason="熟悉此客户",
        to_staff=make_staff(db),
        even_if_not_online=True,
        now=T0,
    )
    queued = chat(db, settings, now=T0 + timedelta(seconds=5))
    place = routing.position(db, queued, T0 + timedelta(seconds=10), settings=settings)
    assert (place.position, place.waits_for) == (1, None)
    assert place.promised
