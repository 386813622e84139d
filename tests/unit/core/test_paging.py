"""Keyset pages on an order that mixes directions and has ties: paging through with the
cursors gives every row once, in the order of one long page."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from kefu import paging
from kefu.db import UtcDateTime
from kefu.errors import InvalidInput


class _Base(DeclarativeBase):
    pass


class Row(_Base):
    __tablename__ = "row"
    id: Mapped[int] = mapped_column(primary_key=True)
    count: Mapped[int]
    kind: Mapped[str]
    at: Mapped[datetime] = mapped_column(UtcDateTime)


ORDER = paging.Keyset(
    (Row.count, paging.DESC), (Row.kind, paging.ASC), (Row.at, paging.DESC), (Row.id, paging.ASC)
)
T0 = datetime(2026, 12, 7, tzinfo=UTC)


@pytest.mark.parametrize("size", [1, 3, 7, 8, 40, 100])
def test_paging_through_gives_every_row_once_in_order(size: int) -> None:
    """Sizes that divide the 40 rows (1, 8, 40) end on an exactly full page: no cursor to
    an empty page after it."""
    engine = create_engine("sqlite://")
    _Base.metadata.create_all(engine)
    rng = random.Random(size)
    with Session(engine) as db:
        db.add_all(
            Row(
                count=rng.randint(0, 3),
                kind=rng.choice("ab"),
                at=T0 + timedelta(minutes=rng.randint(0, 2)),
            )
            for _ in range(40)
        )
        db.commit()
        whole = [row.id for row in db.scalars(ORDER.page(select(Row), after=None))]
        paged: list[int] = []
        pages = 0
        cursor = None
        while True:
            read = db.scalars(ORDER.page(select(Row), after=cursor).limit(size + 1))
            page, cursor = ORDER.cut(read, size)
            assert page, "a page with no rows was linked to"
            paged += [row.id for row in page]
            pages += 1
            if cursor is None:
                break
    assert paged == whole and len(whole) == 40
    assert pages == -(-40 // size)


NAIVE = ORDER.encode_values([1, "a", datetime(2026, 12, 7), 1])


@pytest.mark.parametrize("cursor", ["", "%%%", "W10", "WzEsMiwzLDRd", "bm90IGpzb24", NAIVE])
def test_a_cursor_of_another_list_or_none_at_all_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        ORDER.decode(cursor)
    assert refused.value.params["field"] == "cursor"
