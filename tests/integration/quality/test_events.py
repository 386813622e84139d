"""Recording contact events: validation, finding the contact, and the rollups kept in step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories import make_customer, make_staff

from kefu.errors import InvalidInput
from kefu.quality import events
from kefu.quality.models import ContactEvent, QualityContact, QualityContactRef, QualitySegment

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "arrived"}, "kind"),
        ({"channel": "fax"}, "channel"),
        ({"category": "weather"}, "category"),
        ({"at": datetime(2026, 3, 2, 9, 0)}, "at"),
        ({"conversation_id": None}, "contact"),
        ({"data": {"x": object()}}, "data"),
        ({"data": {"x": "y" * 5000}}, "data"),
        ({"kind": "answered_by_agent"}, "staff_id"),
    ],
)
def test_bad_events_are_refused(db: Session, kwargs: dict[str, object], field: str) -> None:
    call: dict[str, object] = {"kind": "contact_arrived", "channel": "web", "conversation_id": 1}
    call.update(kwargs)
    kind = call.pop("kind")
    with pytest.raises(InvalidInput) as raised:
        events.record(db, str(kind), **call)  # type: ignore[arg-type]
    assert raised.value.params["field"] == field
    assert db.scalar(select(func.count()).select_from(ContactEvent)) == 0


def test_a_fact_recorded_once_per_key_is_counted_once(db: Session) -> None:
    common = {"channel": "phone", "call_sid": "CA-once-1", "at": at(0)}
    events.record(db, "contact_arrived", **common)  # type: ignore[arg-type]
    for key in ("k-1", "k-1", "k-2"):
        events.record(db, "action_done", data={"action": "freeze"}, once=key, **common)  # type: ignore[arg-type]
    contact = db.scalar(select(QualityContact).where(QualityContact.key == "call:CA-once-1"))
    assert contact is not None and contact.actions == 2
    kept = db.scalars(select(ContactEvent).where(ContactEvent.kind == "action_done")).all()
    assert [e.data for e in kept] == [
        {"action": "freeze", "key": "k-1"},
        {"action": "freeze", "key": "k-2"},
    ]


def test_a_contact_another_writer_created_in_the_same_instant_is_used(db: Session) -> None:
    """Its row is there but not yet its ref (the other writer is between the two): the
    event's INSERT does nothing, and the event goes to that contact."""
    db.add(
        QualityContact(key="call:CA-race-1", channel="phone", started_at=at(0), updated_at=at(0))
    )
    db.flush()
    events.record(db, "contact_arrived", channel="phone", call_sid="CA-race-1", at=at(5))
    [contact] = db.scalars(select(QualityContact).where(QualityContact.key == "call:CA-race-1"))
    assert contact.arrived_at == at(5)
    assert db.get(QualityContactRef, "call:CA-race-1") is not None
    [event] = db.scalars(select(ContactEvent).where(ContactEvent.call_sid == "CA-race-1"))
    assert event.contact_id == contact.id


def test_a_call_is_folded_into_one_contact_and_its_rollups(db: Session) -> None:
    customer = make_customer(db)
    agent = make_staff(db)
    common = {"channel": "phone", "call_sid": "CA-fold-1"}
    events.record(db, "contact_arrived", at=at(0), customer_id=customer.id, **common)
    events.record(db, "queued", at=at(5), work_item_id=901, **common)
    events.record(db, "answered_by_agent", at=at(35), staff_id=agent.id, work_item_id=901, **common)
    events.record(db, "first_reply", at=at(40), staff_id=agent.id, **common)
    events.record(db, "resolved", at=at(200), category="refund", **common)
    events.record(db, "contact_ended", at=at(230), data={"wrap_seconds": 30}, **common)
    contact = db.scalar(select(QualityContact).where(QualityContact.key == "call:CA-fold-1"))
    assert contact is not None
    assert contact.staff_id == agent.id and contact.category == "refund"
    (segment,) = db.scalars(select(QualitySegment).where(QualitySegment.contact_id == contact.id))
    assert segment.queued_at == at(5) and segment.answered_at == at(35)
    assert segment.ended_at == at(230) and segment.wrap_seconds == 30
    # the queue item's id finds the same contact
    events.record(db, "action_done", work_item_id=901, channel="phone", at=at(210))
    assert db.scalar(select(func.count()).select_from(QualityContact)) == 1
