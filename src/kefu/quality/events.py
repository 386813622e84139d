"""Contact events: the one record of what happened on every channel, that figures come from.

Each domain calls ``record`` where the thing happens, in the same transaction as its own
change (``record`` never commits; its rows go in at the session's next flush). A contact is
found by the most specific id the event carries — ``call_sid``, then ``conversation_id``,
then ``work_item_id``, then ``case_id`` — and created by the first event that names it.
Passing several ids on one event ties them together: a queue item to its conversation, a
conversation or call to the case opened from it. Once a case exists, pass its ``case_id``
on the conversation's or call's next event so the case's own events (resolved, reopened)
count on that same contact.

Kinds (past tense: each is a fact, not a command):

==================== ========================================================================
contact_arrived      a customer started a contact (a chat, a call, a case opened by e-mail or
                     form); counts one contact
bot_answered         the assistant answered (containment is measured from here)
handed_over          the assistant handed the contact to people (转人工)
queued               the contact entered the queue for a person (each transfer queues again)
answered_by_agent    a person took the contact from the queue (``staff_id``); ends the wait
first_reply          a person's first reply; later ones are ignored (``staff_id``)
transferred          the person passed it on; their stretch ends here
escalated            moved up a tier (``data.reason``: e.g. ``sla_breach``)
action_done          an account action was done for the customer (``data.action``)
resolved             the problem was solved (``data.within_sla``: committed time kept or not)
reopened             a resolved problem came back
contact_ended        the call hung up / the chat closed (``data.wrap_seconds``: after-call work)
abandoned            the customer left the queue before a person answered
callback_requested   the customer chose a call-back instead of waiting
callback_done        the call-back was made
survey_sent          a satisfaction survey was offered (recorded by ``kefu.quality.surveys``)
survey_answered      the survey was answered (``data.score``, ``data.solved``)
==================== ========================================================================

Channels: web, app, wechat, weibo, sms, email, phone, cli, and console (a case an agent
opened on the customer's behalf).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Final

from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from kefu import deferred
from kefu.cases.categories import Category
from kefu.db import utcnow
from kefu.errors import InvalidInput
from kefu.quality import facts, metrics, rollup, surveys
from kefu.quality.models import ContactEvent

KINDS: Final = (
    "contact_arrived",
    "bot_answered",
    "handed_over",
    "queued",
    "answered_by_agent",
    "first_reply",
    "transferred",
    "escalated",
    "action_done",
    "resolved",
    "reopened",
    "contact_ended",
    "abandoned",
    "callback_requested",
    "callback_done",
    "survey_sent",
    "survey_answered",
)
CHANNELS: Final = metrics.CHANNELS
# kinds that say a person acted, so they must name the person
_NEEDS_STAFF: Final = frozenset({"answered_by_agent", "first_reply"})
_MAX_DATA_BYTES = 4000


@deferred.batch_scope
@contextmanager
def batched(db: Session) -> Iterator[None]:
    """Events recorded inside are stored at once, but their figures go into the rollups
    together when the block ends. Every contact of the same half hour and channel adds to
    the same rollup rows, so on PostgreSQL a request that updated them early would hold
    those rows locked, and every other request behind them, until it commits; a request
    that ends with the block holds them only for its commit. Figures read inside the block
    do not include its events yet."""
    with rollup.deferred(db):
        yield
        # a contact waiting to be written counts as it is: inside the block, so its
        # figures go with the others' (``facts._PARKED``)
        facts.write_waiting(db)


# The space of the advisory locks of one customer's contacts (the second key is the customer).
_PG_CUSTOMER_LOCK_SPACE = 0x6B667163
_PG_WAIT = text("SELECT pg_advisory_xact_lock(:space, :customer)")
_PG_TRY = text("SELECT pg_try_advisory_xact_lock(:space, :customer)")
_HELD_CUSTOMERS = "kefu.quality.events.held_customers"


def _hold_customer(db: Session, customer_id: int) -> None:
    """On PostgreSQL, take the transaction's lock on the customer's contacts before the
    event changes any.

    An event changes its contact and the repeat marks of the customer's other contacts,
    reading those from what is committed. Two transactions making contacts of one customer
    at once (two requests, or a request and a batch of deferred work) each asked its repeat
    questions without the other's contact, and the later was not marked a repeat. Holding
    the customer, the second asks once the first has committed.

    A batch of deferred work holds every row it changed until it commits. Two processors'
    batches with contacts of customers C and D in opposite orders each held the first
    customer's rows and waited for the other's. Holding the customer first, a batch's rows
    of C are changed by no other batch; the first work of a batch waits for the lock (it
    holds nothing yet), and a later one that would wait ends the batch before it
    (``deferred.Later``). A change's own transaction (a request, or work done at once in
    it) waits. SQLite (one writer at a time) takes no lock. An event naming no customer
    takes none either."""
    if db.get_bind().dialect.name != "postgresql":
        return
    # on the session's connection: no autoflush, so the earlier rows' changes wait to be
    # written together (``facts._flush_for_questions``)
    connection = db.connection()
    # held until the transaction ends, or its savepoint rolls back
    transaction = db.get_nested_transaction() or db.get_transaction()
    held = db.info.get(_HELD_CUSTOMERS)
    if held is None or held[0] is not transaction:
        held = db.info[_HELD_CUSTOMERS] = (transaction, set())
    customers: set[int] = held[1]
    if customer_id in customers:
        return
    params = {"space": _PG_CUSTOMER_LOCK_SPACE, "customer": customer_id}
    if deferred.first_in_transaction(db) is False:
        if not connection.execute(_PG_TRY, params).scalar():
            raise deferred.Later
    else:
        connection.execute(_PG_WAIT, params)
    customers.add(customer_id)


def record(
    db: Session,
    kind: str,
    *,
    channel: str,
    at: datetime | None = None,
    case_id: int | None = None,
    conversation_id: int | None = None,
    call_sid: str | None = None,
    work_item_id: int | None = None,
    staff_id: int | None = None,
    customer_id: int | None = None,
    category: str | None = None,
    data: dict[str, Any] | None = None,
    once: str | None = None,
    fresh: bool = False,
) -> ContactEvent:
    """Record one fact about a contact and bring its figures up to date. With ``once`` (an
    idempotency key), a fact already recorded under it on the contact is not counted again.
    ``fresh``: the conversation, call or queue item the event names was inserted in this
    transaction, so no contact is named by it yet and none is looked up (the first event of
    an assistant's new conversation).

    Raises ``InvalidInput`` for an unknown kind, channel or category, a naive time, an event
    naming no contact, or ``data`` that is not small JSON.
    """
    _check(kind, channel, at, category, call_sid, staff_id)
    ids = facts.ContactIds(
        call_sid=call_sid,
        conversation_id=conversation_id,
        work_item_id=work_item_id,
        case_id=case_id,
    )
    if ids.empty:
        raise InvalidInput("an event must name its contact", field="contact")
    if once is not None:
        if (earlier := _recorded(db, kind, ids, once)) is not None:
            return earlier
        data = {**(data or {}), "key": once}
    payload = _checked_data(data)
    if customer_id is not None:
        _hold_customer(db, customer_id)
    event = ContactEvent(
        kind=kind,
        channel=channel,
        at=at or utcnow(),
        case_id=case_id,
        conversation_id=conversation_id,
        call_sid=call_sid,
        work_item_id=work_item_id,
        staff_id=staff_id,
        customer_id=customer_id,
        category=category,
        data=payload,
        recorded_at=utcnow(),
    )
    contact = facts.record(db, ids, event, fresh=fresh)
    if kind == "resolved":
        surveys.schedule(db, contact, now=event.at)
    elif kind == "reopened":
        surveys.hold(db, contact)
    return event


def _recorded(db: Session, kind: str, ids: facts.ContactIds, once: str) -> ContactEvent | None:
    same = [
        column == value
        for column, value in (
            (ContactEvent.conversation_id, ids.conversation_id),
            (ContactEvent.call_sid, ids.call_sid),
            (ContactEvent.work_item_id, ids.work_item_id),
            (ContactEvent.case_id, ids.case_id),
        )
        if value is not None
    ]
    query = select(ContactEvent).where(ContactEvent.kind == kind, or_(*same))
    return next((e for e in db.scalars(query) if (e.data or {}).get("key") == once), None)


def _check(
    kind: str,
    channel: str,
    at: datetime | None,
    category: str | None,
    call_sid: str | None,
    staff_id: int | None,
) -> None:
    if kind not in KINDS:
        raise InvalidInput(f"unknown contact event kind {kind!r}", field="kind", value=kind)
    if channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {channel!r}", field="channel", value=channel)
    if at is not None and at.tzinfo is None:
        raise InvalidInput("event time must carry a time zone", field="at")
    if category is not None and category not in Category.__members__.values():
        raise InvalidInput(f"unknown category {category!r}", field="category", value=category)
    if call_sid is not None and not 0 < len(call_sid) <= 64:
        raise InvalidInput("a call id is 1 to 64 characters", field="call_sid")
    if kind in _NEEDS_STAFF and staff_id is None:
        raise InvalidInput(f"{kind} needs the staff member", field="staff_id")


def _checked_data(data: dict[str, Any] | None) -> dict[str, Any]:
    if data is None:
        return {}
    try:
        encoded = json.dumps(data, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        raise InvalidInput("event data must be JSON", field="data") from None
    if len(encoded.encode()) > _MAX_DATA_BYTES:
        raise InvalidInput("event data is too large", field="data")
    return dict(data)
