"""Quality events of one customer recorded by concurrent transactions on PostgreSQL (two
requests, or a request and a batch of deferred work) mark their repeats as if one had
followed the other."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker
from tests.conftest import BACKEND
from tests.factories import make_customer
from tests.integration.quality.helpers import T0

from kefu.quality import events, metrics, rebuild
from kefu.quality.models import QualityContact, QualityRollup

pytestmark = pytest.mark.skipif(
    BACKEND != "postgres", reason="SQLite lets one transaction write at a time"
)

_WAITING = text(
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


def _arrived(db: Session, item: int, customer_id: int, minutes: int) -> None:
    events.record(
        db,
        "contact_arrived",
        channel="app",
        work_item_id=item,
        customer_id=customer_id,
        category="refund",
        at=T0.replace(minute=minutes),
    )
    db.flush()


def _rollups(db: Session) -> list[tuple[object, ...]]:
    table = QualityRollup.__table__
    counters = [table.c[name] for name in metrics.COUNTERS]
    key = [table.c.grain, table.c.period_start, table.c.channel, table.c.category]
    found = db.execute(select(*key, table.c.staff_id, *counters).order_by(*key, "staff_id"))
    return [tuple(round(v, 6) if isinstance(v, float) else v for v in row) for row in found]


def test_two_requests_opening_contacts_of_one_customer_mark_the_later_a_repeat(
    isolated_database: Engine,
) -> None:
    """The first request has made the customer's contact and not committed when the second
    makes another of the same problem. The second asked its repeat questions without the
    first's contact and neither was marked; now it waits for the customer until the first
    commits, as deferred work does."""
    sessions = sessionmaker(bind=isolated_database, expire_on_commit=False)
    with sessions() as db:
        customer_id = make_customer(db).id
        db.commit()
    with sessions() as first, isolated_database.connect() as watching:
        _arrived(first, 1, customer_id, 0)

        def second() -> None:
            with sessions() as db:
                _arrived(db, 2, customer_id, 30)
                db.commit()

        other = threading.Thread(target=second)
        other.start()
        deadline = time.monotonic() + 30
        while other.is_alive() and time.monotonic() < deadline:
            if watching.execute(_WAITING).scalar():  # the second waits for the first
                break
            watching.rollback()
            time.sleep(0.01)
        first.commit()
        other.join(30)
        assert not other.is_alive()
    with sessions() as db:
        marks = {
            contact.key: (contact.is_repeat, contact.followed_by_repeat)
            for contact in db.scalars(select(QualityContact))
        }
        assert marks == {"work:1": (False, True), "work:2": (True, False)}
        loaded = _rollups(db)
        rebuild.rebuild_all(db)
        assert _rollups(db) == loaded
