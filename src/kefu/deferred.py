"""Work a change leaves for later (search indexing, quality figures), kept in the change's
own transaction so nothing is lost by not doing it on the request.

``defer(db, kind, payload)`` adds a ``deferred_work`` row beside the change; it commits or
rolls back with it. A processor (a thread in ``kefu serve`` unless
``KEFU_DEFERRED_INLINE=false``, and in every ``kefu worker``) runs the rows in order, many
in one transaction, and deletes each in the transaction that did its work, so a process
killed at any moment leaves every row either done or still waiting. A row whose work fails
stays, with the error and a later due time (backing off to ``MAX_DELAY``), and is tried
again. A commit in this process wakes the processor at once; rows written by other
processes are picked up within ``POLL_SECONDS``. Several processors may share one
PostgreSQL database: each claims its rows with ``FOR UPDATE SKIP LOCKED``, and work that
would wait for a lock while its batch holds what earlier rows took raises ``Later``, so
two batches never wait for each other.

``KEFU_DEFERRED_WORK=at_once`` (the default when ``KEFU_ENV=test``) runs the work at once
in the caller's session instead, as if it had never been deferred.

Handlers are declared in the domains with ``@handler(kind)``; the kernel imports the
modules that hold them by name and knows none of them.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    event,
    insert,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from kefu.config import Settings, get_settings
from kefu.db import Base, UtcDateTime, utcnow
from kefu.models import import_all_models

log = logging.getLogger("kefu.deferred")

# the domain modules that declare handlers and batch scopes
_HANDLER_MODULES = ("kefu.cases.deferred", "kefu.quality.events", "kefu.search.service")
BATCH = 100
CHUNK = 8
# A batch holds the database's write lock (SQLite has one), so it ends after this long
# and requests waiting to write go in between batches.
BATCH_SECONDS = 0.05
# On SQLite, a batch whose first row has been due this long is behind the writes and runs
# for longer: the writer thread's turn on the lock lasts as long as its queued requests
# take, a batch's only BATCH_SECONDS, so under load rows piled up (up to 164 after
# bench/case_history.py's rounds; the next case's work showed after up to 2.7 s).
BEHIND_SECONDS = 0.25
BEHIND_BATCH_SECONDS = 0.2
POLL_SECONDS = 0.5
MAX_DELAY = timedelta(minutes=10)

Handler = Callable[[Session, dict[str, Any]], None]
_HANDLERS: dict[str, Handler] = {}
Scope = Callable[[Session], AbstractContextManager[None]]
_BATCH_SCOPES: list[Scope] = []
Ahead = Callable[[Session, list[dict[str, Any]]], None]
_AHEAD: dict[str, list[Ahead]] = {}


class DeferredWork(Base):
    __tablename__ = "deferred_work"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Declare the function that does the work of ``kind`` in a session it must not
    commit; raising leaves the work to be tried again."""

    def register(func: Handler) -> Handler:
        known = _HANDLERS.get(kind)
        if known is not None and known is not func:
            raise RuntimeError(f"two handlers for deferred work {kind!r}")
        _HANDLERS[kind] = func
        return func

    return register


def batch_scope(scope: Scope) -> Scope:
    """Declare a context a batch of deferred work runs in, entered around the batch and
    left before its commit (the quality figures sum a batch's changes to their rollup
    rows and write them once). A batch that fails leaves it by its exception."""
    if scope not in _BATCH_SCOPES:
        _BATCH_SCOPES.append(scope)
    return scope


def reads_ahead(*kinds: str) -> Callable[[Ahead], Ahead]:
    """Declare a function that reads, in one statement for many rows, what the work of the
    rows of ``kinds`` read by a batch will read one row at a time, so each row's work finds
    it in the session. It changes nothing and may read for rows the batch ends before; it
    runs inside the batch's scopes, and not for a row done alone after a failed batch."""

    def register(func: Ahead) -> Ahead:
        for kind in kinds:
            if func not in _AHEAD.setdefault(kind, []):
                _AHEAD[kind].append(func)
        return func

    return register


def _read_ahead(db: Session, rows: list[DeferredWork]) -> None:
    payloads: dict[Ahead, list[dict[str, Any]]] = {}
    for row in rows:
        for func in _AHEAD.get(row.kind, ()):
            payloads.setdefault(func, []).append(row.payload)
    for func, of_rows in payloads.items():
        func(db, of_rows)


def handlers() -> dict[str, Handler]:
    if not _imported.is_set():  # once per process: every change that defers asks
        # every model, so a handler's rows can reach tables its own modules do not import
        # (a ``kefu worker`` process imports no routes)
        import_all_models()
        for module in _HANDLER_MODULES:
            importlib.import_module(module)
        _imported.set()
    return _HANDLERS


_imported = threading.Event()


def at_once(settings: Settings) -> bool:
    mode = settings.deferred_work or ("at_once" if settings.env == "test" else "outbox")
    return mode == "at_once"


def defer(db: Session, kind: str, payload: dict[str, Any]) -> None:
    """Leave ``kind`` with ``payload`` (ids and times, JSON) to be done after the commit."""
    work = handlers()[kind]  # an unknown kind fails here, in the change, not later
    if at_once(get_settings()):
        work(db, payload)
        return
    now = utcnow()
    # a statement on the session's connection, not an object in the session: the row is
    # never read back in the change, and as an object it added a table to the change's flush
    db.connection().execute(
        _INSERT, {"kind": kind, "payload": payload, "created_at": now, "due_at": now}
    )
    db.info[_WAKE] = True


_INSERT = insert(cast(Table, DeferredWork.__table__)).values(attempts=0)


_WAKE = "kefu.deferred.wake"
_pending = threading.Event()


@event.listens_for(Session, "after_commit")
def _wake(session: Session) -> None:
    """A commit that deferred work wakes this process's processor."""
    if session.info.pop(_WAKE, False):
        _pending.set()


class Later(Exception):
    """Raised by a handler, before it changed anything, when its work would wait for a lock
    while the batch holds what the previous rows took (``first_in_transaction`` is false):
    another processor's batch may be waiting for those, and PostgreSQL would abort one of
    the two. The batch ends before the row and commits; the next batch begins with it."""


_FIRST = "kefu.deferred.first"


def first_in_transaction(db: Session) -> bool | None:
    """Whether the deferred work running in ``db`` is the first in its transaction, so it
    holds no lock another transaction waits for and may wait for one itself; None for work
    done at once in the change's own transaction, outside any processor."""
    return db.info.get(_FIRST)


def _retry_delay(attempts: int) -> timedelta:
    return min(timedelta(seconds=2**attempts), MAX_DELAY)


# Built once, the time, the last id read and the number of rows bound at each call:
# building the statement cost more than running it.
_DUE = (
    select(DeferredWork)
    .where(DeferredWork.due_at <= bindparam("now"), DeferredWork.id > bindparam("after"))
    .order_by(DeferredWork.id)
    .limit(bindparam("limit"))
)
_DUE_SKIP_LOCKED = _DUE.with_for_update(skip_locked=True)


def _due(db: Session, limit: int, *, after: int) -> list[DeferredWork]:
    query = _DUE_SKIP_LOCKED if db.get_bind().dialect.name == "postgresql" else _DUE
    return list(db.scalars(query, {"now": utcnow(), "after": after, "limit": limit}))


def run_due(sessions: sessionmaker[Session], *, limit: int = BATCH) -> int:
    """Do the work that is due (see ``_batch``); returns how many rows were done."""
    return _batch(sessions, limit=limit)[0]


def _batch(sessions: sessionmaker[Session], *, limit: int = BATCH) -> tuple[int, bool]:
    """Do the work that is due, oldest first: a batch in one transaction (up to ``limit``
    rows or ``BATCH_SECONDS``; on SQLite ``BEHIND_BATCH_SECONDS`` when its first row has
    been due for ``BEHIND_SECONDS``), or, when one of the batch fails, each row up to the
    failing one in a transaction of its own so only the failing ones wait for a retry.
    Returns how many rows were done, and whether more may be due: False when the batch
    read every row that was due (a commit after its reading wakes the processor again).

    The rows are read ``CHUNK`` at a time: a batch ends on its time more often than on its
    rows, and the rows read beyond its end were read again by the next. A reading that
    found fewer rows than it asked for found them all, so none follows it."""
    work = handlers()
    with sessions() as db:
        asked = min(CHUNK, limit)
        rows = _due(db, asked, after=0)
        if not rows:
            return 0, False
        all_read = len(rows) < asked
        # read now: a statement that fails in a flush leaves the rows unreadable
        ids = [row.id for row in rows]
        # on SQLite, where the batch and the writer thread take turns on one connection
        behind = db.get_bind().dialect.name == "sqlite" and utcnow() - rows[0].due_at >= timedelta(
            seconds=BEHIND_SECONDS
        )
        seconds = BEHIND_BATCH_SECONDS if behind else BATCH_SECONDS
        began = time.monotonic()
        done = 0
        more = True
        try:
            with _scoped(db):
                _read_ahead(db, rows)
                while True:
                    row = rows[done]
                    db.info[_FIRST] = done == 0
                    try:
                        work[row.kind](db, row.payload)
                    except Later:
                        if done == 0:
                            raise
                        break
                    done += 1
                    if done == limit or time.monotonic() - began > seconds:
                        break
                    if done == len(rows):
                        if all_read:
                            more = False
                            break
                        asked = min(CHUNK, limit - done)
                        read = _due(db, asked, after=ids[-1])
                        all_read = len(read) < asked
                        if not read:
                            more = False
                            break
                        rows += read
                        ids += [row.id for row in read]
                        _read_ahead(db, read)
            for row in rows[:done]:  # deleted together: one statement at the commit
                db.delete(row)
            db.commit()
            return done, more
        except Exception:
            ids = ids[: done + 1]
            db.rollback()
    done = 0
    for row_id in ids:
        with sessions() as db:
            query = select(DeferredWork).where(DeferredWork.id == row_id)
            if db.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            single = db.scalar(query)
            if single is None:  # done meanwhile by another processor
                continue
            kind = single.kind
            db.info[_FIRST] = True
            try:
                with _scoped(db):
                    work[kind](db, single.payload)
                db.delete(single)
                db.commit()
                done += 1
                continue
            except Exception as error:
                db.rollback()
                log.exception("deferred %s #%s failed; will try again", kind, row_id)
                message = f"{type(error).__name__}: {error}"[:1000]
            failed = db.get(DeferredWork, row_id)
            if failed is not None:
                failed.attempts += 1
                failed.last_error = message
                failed.due_at = utcnow() + _retry_delay(failed.attempts)
                db.commit()
    # the rows after the failing one were not tried
    return done, True


@contextmanager
def _scoped(db: Session) -> Iterator[None]:
    with ExitStack() as scopes:
        for scope in _BATCH_SCOPES:
            scopes.enter_context(scope(db))
        yield


def run_until_empty(sessions: sessionmaker[Session]) -> int:
    """Do batches until one has read every row that was due. Rows committed meanwhile by
    another process are left to the next poll, as rows committed after that batch are."""
    done = 0
    while True:
        batch, more = _batch(sessions)
        done += batch
        if not more:
            return done


class Processor:
    """A thread that does deferred work as it arrives until ``stop``."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kefu-deferred", daemon=True)

    def start(self) -> Processor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        _pending.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stopping.is_set():
            _pending.wait(POLL_SECONDS)
            _pending.clear()
            try:
                run_until_empty(self.sessions)
            except Exception:  # the database went away for a moment: try again later
                log.exception("deferred work could not be read")
                self._stopping.wait(POLL_SECONDS)
