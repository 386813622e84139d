"""Keeping ``quality_rollup`` equal to the sum of contact contributions, and reading it.

Changes are applied as deltas, one upsert per touched row (``INSERT … ON CONFLICT DO UPDATE
SET x = x + excluded.x``) in a single execute, so concurrent writers on PostgreSQL never lose
an increment.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, func, select
from sqlalchemy import event as orm_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction

from kefu.quality.metrics import ALL, CATEGORIES, CHANNELS, COUNTERS, SUMS, Contribution, Totals
from kefu.quality.models import QualityRollup

_KEY = ("grain", "period_start", "channel", "category", "staff_id")
_CONFLICT = ("grain", "channel", "category", "period_start", "staff_id")  # the unique index
_DEFERRED = "kefu.quality.rollup.deferred"
EACH = None
"""A scope value: every concrete channel (or category) row, not the ``*`` row."""


# the statements built so far, by dialect and the counters they name; a turn, a case or an
# event touches a handful of the ~110 counters, and the same few sets again and again
_UPSERTS: dict[tuple[str, tuple[str, ...]], Any] = {}
_MAX_UPSERTS = 512


def _upsert(db: Session, names: tuple[str, ...]) -> Any:
    """One statement for a batch of rows: the key and the counters ``names`` as bound
    parameters, each added to the stored value (``excluded`` is the row that was to be
    inserted); the counters it leaves out keep their value, or start at the database's
    default of 0. Built once per dialect and set of counters, so it is compiled once.
    Binding every counter for every row cost more than the rest of the upsert: a new
    contact touches ~12 rows with a few counters each, ~1,300 parameters processed."""
    dialect = db.get_bind().dialect.name
    upsert = _UPSERTS.get((dialect, names))
    if upsert is None:
        table = QualityRollup.__table__
        if dialect == "postgresql":
            insert: Any = postgresql.insert(table)
        elif dialect == "sqlite":
            insert = sqlite.insert(table)
        else:
            raise RuntimeError(f"rollups support SQLite and PostgreSQL, not {dialect}")
        upsert = insert.on_conflict_do_update(
            index_elements=list(_CONFLICT),
            set_={name: table.c[name] + insert.excluded[name] for name in names},
        )
        if len(_UPSERTS) >= _MAX_UPSERTS:  # batches summing many contacts name many sets
            _UPSERTS.clear()
        _UPSERTS[(dialect, names)] = upsert
    return upsert


def _typed(name: str, value: float) -> float | int:
    return value if name in SUMS else round(value)


def _lock_order(item: tuple[tuple[Any, ...], Any]) -> tuple[Any, ...]:
    grain, period_start, channel, category, staff_id = item[0]
    return grain, period_start, channel, category, -1 if staff_id is None else staff_id


# The changes a ``deferred`` block collected, each part with the transaction or savepoint it
# was made in: a savepoint rolled back inside the block (a refused support command, an
# operation of a group commit) takes its parts with it, as it takes its events.
_Pending = list[tuple[SessionTransaction | None, Contribution]]


@contextmanager
def deferred(db: Session) -> Iterator[None]:
    """Collect the changes made inside and apply them, summed, when the block ends."""
    pending: _Pending = []
    db.info[_DEFERRED] = pending
    try:
        yield
    finally:
        del db.info[_DEFERRED]
    if len(pending) == 1:
        apply(db, pending[0][1])
        return
    total = Contribution()
    for _transaction, part in pending:
        total.extend(part)
    apply(db, total)


def _within(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


@orm_event.listens_for(Session, "after_soft_rollback")
def _drop_undone(session: Session, previous_transaction: SessionTransaction) -> None:
    pending: _Pending | None = session.info.get(_DEFERRED)
    if pending:
        pending[:] = [part for part in pending if not _within(part[0], previous_transaction)]


def apply(db: Session, change: Contribution) -> None:
    """Add a contribution (or a difference of two) to the rollup rows."""
    pending: _Pending | None = db.info.get(_DEFERRED)
    if pending is not None:
        transaction = db.get_nested_transaction() or db.get_transaction()
        if not pending or pending[-1][0] is not transaction:
            pending.append((transaction, Contribution()))
        pending[-1][1].extend(change)
        return
    rows: list[dict[str, Any]] = []
    touched: set[str] = set()
    # Rows in one order everywhere: two transactions upserting overlapping rows in opposite
    # orders would each hold a row the other waits for, and PostgreSQL aborts one.
    for key, values in sorted(change.counters.items(), key=_lock_order):
        if values:
            row = dict(zip(_KEY, key, strict=True))
            row.update((name, _typed(name, value)) for name, value in values.items())
            rows.append(row)
            touched.update(values)
    if rows:
        # one statement for the batch, naming every counter some row changes: the rows go
        # in one execute, in the order above
        names = tuple(name for name in COUNTERS if name in touched)
        zeros: dict[str, Any] = dict.fromkeys(names, 0)
        db.execute(_upsert(db, names), [{**zeros, **row} for row in rows])


def clear(db: Session) -> None:
    db.execute(delete(QualityRollup))


@dataclass(frozen=True)
class Scope:
    """Which rollup rows a question reads: a grain, a period range [start, end), and for
    channel and category a value, ``ALL`` (the rows summing all of them) or ``EACH`` (one
    row per value). ``staff_ids`` narrows to agents (a team is a set of agents)."""

    grain: str
    start: datetime
    end: datetime
    channel: str | None = ALL
    category: str | None = ALL
    staff_ids: tuple[int, ...] | None = None
    channels: tuple[str, ...] | None = None  # with channel EACH: only these

    def where(self, table: Any) -> ColumnElement[bool]:
        terms = [
            table.c.grain == self.grain,
            table.c.period_start >= self.start,
            table.c.period_start < self.end,
        ]
        # every value listed, so the key index is searched, never scanned
        for column, value, each in (
            (table.c.channel, self.channel, self.channels or CHANNELS),
            (table.c.category, self.category, CATEGORIES),
        ):
            terms.append(column.in_(each) if value is EACH else column == value)
        if self.staff_ids is not None:
            terms.append(table.c.staff_id.in_(self.staff_ids))
        return and_(*terms)


GROUPS = ("period_start", "channel", "category", "staff_id")


def totals_by(db: Session, scope: Scope, group: Sequence[str]) -> dict[tuple[Any, ...], Totals]:
    """Summed counters per group value (``()`` groups everything into one row)."""
    for name in group:
        if name not in GROUPS:
            raise ValueError(f"cannot group rollups by {name!r}")
    table = QualityRollup.__table__
    columns = [table.c[name] for name in group]
    query: Select[Any] = select(
        *columns, *(func.sum(table.c[name]).label(name) for name in COUNTERS)
    ).where(scope.where(table))
    if columns:
        query = query.group_by(*columns)
    counters: dict[tuple[Any, ...], dict[str, float]] = {}
    width = len(group)
    for row in db.execute(query):
        sums = row[width:]
        if not group and sums[0] is None:
            continue  # no rows at all
        # most histogram bins are empty: keep only what is not
        counters[tuple(row[:width])] = {
            name: float(value) for name, value in zip(COUNTERS, sums, strict=True) if value
        }
    return {key: Totals(counters=values) for key, values in counters.items()}
