"""Keyset pages of the case views: every case exactly once, in order, whichever sort, also
with unknown due times (a paused clock) among them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session
from tests.factories import make_staff
from tests.integration.cases.case_helpers import T0, make_case

from kefu.cases import views
from kefu.cases.models import Case
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
