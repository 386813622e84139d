"""Keyset pages of the case views: every case exactly once, in order, whichever sort, also
with unknown due times (a paused clock) among them."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session
from tests.factories import make_staff
from tests.integration.cases.case_helpers import AGENT, T0, make_case

from kefu.cases import case_page, service, views
from kefu.cases.models import Case
from kefu.cases.transitions import Mover, Status
from kefu.config import Settings
from kefu.errors import InvalidInput


def _walk(db: Session, settings: Settings, me: int, **params: str) -> list[Case]:
    seen: list[Case] = []
    after = None
    while True:
        query = views.parse({**params, **({"after": after} if after else {})})
        page = views.page(db, query, me=me, settings=settings, now=T0 + timedelta(days=30))
        seen += page.cases
        if page.next_cursor is None:
            return seen
        after = page.next_cursor


@pytest.mark.parametrize("sort", ["updated", "created", "due"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_pages_hold_every_case_once_in_order(
    db: Session, settings: Settings, sort: str, order: str
) -> None:
    me = make_staff(db).id
    made = [make_case(db, settings, now=T0 + timedelta(minutes=n)) for n in range(7)]
    for case in made[::3]:
        case.resolution_due_at = None  # the clock paused on the customer
    made[1].updated_at = made[2].updated_at  # a tie, broken by id
    made[4].resolution_due_at = made[5].resolution_due_at
    db.flush()
    ids = {c.id for c in made}
    walked = [
        c
        for c in _walk(db, settings, me, view="all", sort=sort, order=order, limit="2")
        if c.id in ids
    ]
    assert sorted(c.id for c in walked) == sorted(ids)
    column = {"updated": "updated_at", "created": "created_at", "due": "resolution_due_at"}[sort]
    far = T0 + timedelta(days=10_000)  # an unknown due time sorts as the latest
    keys = [(getattr(c, column) or far, c.id) for c in walked]
    assert keys == sorted(keys, reverse=order == "desc")


def test_a_cursor_from_another_sort_or_made_up_is_refused(db: Session, settings: Settings) -> None:
    with pytest.raises(InvalidInput):
        views.parse({"view": "all", "after": "not-a-cursor"})
    paused = make_case(db, settings)
    paused.resolution_due_at = None
    cursor = views.encode_cursor(paused, "due")
    assert views.parse({"view": "all", "sort": "due", "after": cursor}).after == cursor
    with pytest.raises(InvalidInput):  # an unknown time is a due-time cursor only
        views.parse({"view": "all", "sort": "updated", "after": cursor})


def _at_risk(db: Session, settings: Settings, me: int, now: datetime) -> set[int]:
    query = views.parse({"view": "at_risk"})
    shown = {c.id for c in views.page(db, query, me=me, settings=settings, now=now).cases}
    assert views.counts(db, me=me, now=now)["at_risk"] == len(shown)
    return shown


def test_a_case_enters_the_at_risk_view_as_its_committed_times_approach(
    db: Session, settings: Settings
) -> None:
    """At risk is read at query time from the warning times the SLA clock keeps: a case
    enters the view when the warning time of its first reply (while owed) or of its
    resolution comes, leaves it while the clock waits on the customer, and comes back
    when the clock runs again."""
    me = make_staff(db).id
    case = make_case(db, settings, now=T0)
    db.flush()
    first_warn, warn = case.first_response_warn_at, case.resolution_warn_at
    assert first_warn is not None and warn is not None and T0 < first_warn < warn
    second = timedelta(seconds=1)
    assert case.id not in _at_risk(db, settings, me, T0)
    assert case.id not in _at_risk(db, settings, me, first_warn - second)
    assert case.id in _at_risk(db, settings, me, first_warn)  # the first reply is owed
    assert case_page.clock(case, first_warn, "zh-CN").at_risk  # and the row is red

    case.first_responded_at = first_warn + second
    db.flush()
    assert case.id not in _at_risk(db, settings, me, first_warn + 2 * second)
    assert case.id not in _at_risk(db, settings, me, warn - second)
    assert case.id in _at_risk(db, settings, me, warn)

    waiting_from = warn + second
    due_before = case.resolution_due_at
    assert due_before is not None
    service.move(
        db,
        case,
        target=Status.PENDING_CUSTOMER,
        mover=Mover.STAFF,
        actor=AGENT,
        settings=settings,
        now=waiting_from,
    )
    assert case.resolution_due_at is None  # the clock waits on the customer
    shown = case_page.clock(case, waiting_from, "zh-CN")
    assert not shown.at_risk and case.id not in _at_risk(db, settings, me, waiting_from)
    assert case.id not in _at_risk(db, settings, me, waiting_from + timedelta(days=3))
    back = waiting_from + timedelta(days=3)
    service.move(
        db, case, target=Status.OPEN, mover=Mover.STAFF, actor=AGENT, settings=settings, now=back
    )
    assert case.resolution_due_at is not None and case.resolution_due_at > due_before
    assert case.resolution_warn_at == warn  # warned before the pause: back in at once
    assert case.id in _at_risk(db, settings, me, back)
    assert case_page.clock(case, back, "zh-CN").at_risk


@pytest.mark.parametrize("sort", ["updated", "due"])
def test_the_at_risk_view_is_the_same_asked_for_few_or_for_many(
    db: Session, settings: Settings, sort: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backlog of at-risk cases is read by walking the list's order, a few by gathering
    them from the warn-time indexes: both give the same cases, pages and order."""
    me = make_staff(db).id
    made = [make_case(db, settings, now=T0 + timedelta(minutes=n)) for n in range(9)]
    made[2].resolution_due_at = None  # paused on the customer, first reply already given
    made[2].first_responded_at = T0
    made[5].status = Status.RESOLVED.value  # finished: never at risk
    db.flush()
    few = _walk(db, settings, me, view="at_risk", sort=sort, limit="2")
    monkeypatch.setattr(views, "COUNT_CAP", 3)  # nine made, so "many" from here on
    many = _walk(db, settings, me, view="at_risk", sort=sort, limit="2")
    assert [c.id for c in many] == [c.id for c in few]
    assert {c.id for c in few} >= {c.id for c in made} - {made[2].id, made[5].id}
    assert made[2].id not in {c.id for c in few} and made[5].id not in {c.id for c in few}
