"""Repeat marks kept contact by contact equal the definition applied to every pair.

``facts.refresh_repeats`` reads only the contacts whose marks a change can flip; these
tests drive random histories (out-of-order arrivals, late resolutions, corrected
categories, reopenings, anonymous contacts) through ``events.record`` and compare every
contact's marks with a pairwise check of the whole history and with a rebuild, and the
rollups with the sum of every contact's contribution.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import make_customer, make_staff

from kefu.config import get_settings
from kefu.quality import events, facts, metrics, rebuild
from kefu.quality.models import QualityContact, QualityRollup

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
CATEGORIES = ("refund", "recharge_not_credited", "other", "account_locked")


def _repeats(earlier: QualityContact, later: QualityContact) -> bool:
    """The definition of a repeat, straight from docs: same customer and problem, started
    within the repeat window after the earlier contact's first resolution (else start)."""
    if earlier.customer_id is None or earlier.customer_id != later.customer_id:
        return False
    same_problem = (earlier.case_id is not None and earlier.case_id == later.case_id) or (
        earlier.category not in (None, "other") and earlier.category == later.category
    )
    window_end = (earlier.first_resolved_at or earlier.started_at) + metrics.REPEAT_WINDOW
    return (
        same_problem
        and earlier.started_at <= later.started_at <= window_end
        and (earlier.started_at, earlier.id) < (later.started_at, later.id)
    )


@pytest.mark.parametrize("seed", range(1, 9))
def test_marks_kept_event_by_event_equal_the_pairwise_definition(db: Session, seed: int) -> None:
    rng = random.Random(seed)
    agent = make_staff(db, "agent")
    customers: list[int | None] = [make_customer(db).id for _ in range(3)] + [None]
    work_items: dict[int, int | None] = {}  # work item -> its customer
    for step in range(90):
        choice = rng.random()
        if choice < 0.4 or not work_items:
            item = 9000 + step
            work_items[item] = rng.choice(customers)
            # arrivals come out of order: a channel may report hours or days late
            at = T0 + timedelta(hours=rng.randint(0, 24 * 30))
            events.record(
                db,
                "contact_arrived",
                channel="web",
                work_item_id=item,
                customer_id=work_items[item],
                category=rng.choice(CATEGORIES),
                at=at,
            )
            continue
        item = rng.choice(sorted(work_items))
        at = T0 + timedelta(hours=rng.randint(0, 24 * 40))
        if choice < 0.65:
            events.record(
                db,
                "resolved",
                channel="web",
                work_item_id=item,
                staff_id=agent.id,
                at=at,
                data={"within_sla": rng.random() < 0.5},
            )
        elif choice < 0.8:  # an agent corrects the category
            events.record(
                db, "action_done", channel="web", work_item_id=item, category=rng.choice(CATEGORIES)
            )
        elif choice < 0.9:
            events.record(db, "reopened", channel="web", work_item_id=item, at=at)
        else:  # an event earlier than everything known moves the start back
            events.record(
                db,
                "contact_arrived",
                channel="web",
                work_item_id=item,
                at=T0 - timedelta(hours=rng.randint(1, 24 * 10)),
            )
    db.flush()
    contacts = list(db.scalars(select(QualityContact)))
    for contact in contacts:
        db.refresh(contact)
    expected = {
        c.id: (any(_repeats(o, c) for o in contacts), any(_repeats(c, o) for o in contacts))
        for c in contacts
    }
    actual = {c.id: (c.is_repeat, c.followed_by_repeat) for c in contacts}
    assert actual == expected
    assert any(flags[0] for flags in actual.values())  # the history has repeats to find
    assert any(not flags[0] for flags in actual.values())
    assert _rollups(db) == _summed(db, contacts)
    rebuild.rebuild_all(db)  # the marks set from scratch agree too
    for contact in contacts:
        db.refresh(contact)
    assert {c.id: (c.is_repeat, c.followed_by_repeat) for c in contacts} == expected


def _rollups(db: Session) -> dict[tuple[object, ...], dict[str, float]]:
    table = QualityRollup.__table__
    key = [table.c[name] for name in ("grain", "period_start", "channel", "category", "staff_id")]
    rows = db.execute(select(*key, *(table.c[name] for name in metrics.COUNTERS)))
    found = {}
    for row in rows:
        values = {n: round(v, 6) for n, v in zip(metrics.COUNTERS, row[5:], strict=True) if v}
        if values:
            found[tuple(row[:5])] = values
    return found


def _summed(
    db: Session, contacts: list[QualityContact]
) -> dict[tuple[object, ...], dict[str, float]]:
    """The rollups as the sum of every contact's contribution, as they must always be."""
    total = metrics.Contribution()
    for contact in contacts:
        total.extend(
            metrics.contribution(contact, facts.segments_of(db, contact), get_settings().tz)
        )
    found = {}
    for key, counters in total.counters.items():
        values = {name: round(value, 6) for name, value in counters.items() if round(value, 6)}
        if values:
            found[key] = values
    return found


def test_a_new_contact_reads_no_more_contacts_for_a_long_history(db: Session) -> None:
    """The contacts loaded for a new one do not grow with the customer's earlier ones."""
    customer = make_customer(db)

    def contacts_loaded_for(item: int, at: datetime) -> int:
        loaded = 0

        def count(_target: object, _context: object) -> None:
            nonlocal loaded
            loaded += 1

        sa_event.listen(QualityContact, "load", count)
        try:
            events.record(
                db,
                "contact_arrived",
                channel="app",
                work_item_id=item,
                customer_id=customer.id,
                category="refund",
                at=at,
            )
        finally:
            sa_event.remove(QualityContact, "load", count)
        return loaded

    db.expunge_all()
    short = contacts_loaded_for(1, T0)
    for n in range(2, 200):
        events.record(
            db,
            "contact_arrived",
            channel="app",
            work_item_id=n,
            customer_id=customer.id,
            category="refund",
            at=T0 + timedelta(minutes=n),
        )
    db.flush()
    db.expunge_all()
    assert contacts_loaded_for(500, T0 + timedelta(hours=5)) <= short + 2


def test_contacts_starting_in_the_same_instant_repeat_in_the_order_they_were_made(
    db: Session,
) -> None:
    """A new contact's own marks are asked before its row exists: a contact of the same
    customer and problem that started in the same instant is earlier (made first), and
    the new one repeats it, as the pairwise definition says."""
    customer = make_customer(db)
    for item in (1, 2, 3):
        events.record(
            db,
            "contact_arrived",
            channel="app",
            work_item_id=item,
            customer_id=customer.id,
            category="refund",
            at=T0,
        )
    db.flush()
    contacts = list(db.scalars(select(QualityContact).order_by(QualityContact.id)))
    for contact in contacts:
        db.refresh(contact)
    marks = [(c.is_repeat, c.followed_by_repeat) for c in contacts]
    assert marks == [(False, True), (True, True), (True, False)]
    assert marks == [
        (any(_repeats(o, c) for o in contacts), any(_repeats(c, o) for o in contacts))
        for c in contacts
    ]
    assert _rollups(db) == _summed(db, contacts)
