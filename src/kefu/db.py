"""Database engine, declarative base and sessions.

SQLite is the embedded default and PostgreSQL the production database; both are driven
through SQLAlchemy 2 with the same models and Alembic migrations.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Annotated, Any, cast

from fastapi import Depends, FastAPI
from sqlalchemy import DateTime, Engine, Insert, MetaData, Table, create_engine, event, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import TimeoutError as SqlalchemyTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session, make_transient_to_detached, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool
from sqlalchemy.sql.compiler import InsertmanyvaluesSentinelOpts
from sqlalchemy.types import TypeDecorator

from kefu.config import get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always returned timezone-aware.

    SQLite has no time zone type, so without this a value read back would be naive and
    comparisons with ``utcnow()`` would fail.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def insert_now(db: Session, row: Base) -> None:
    """Write the new ``row`` at once, in the session's transaction, with one INSERT that
    returns its id (set on ``row``), leaving it out of the session: for a record nothing
    in the change reads back as an object (a message sent, a notification). Added to the
    session instead, it waited for a flush and put a table more in it, and a caller that
    needed its id flushed everything else pending with it. The columns not set on ``row``
    take their defaults in the database but stay unset on ``row``."""
    table = cast(Table, row.__table__)
    values = {key: value for key, value in vars(row).items() if key in table.c}
    row.id = db.connection().execute(_inserts(table), values).scalar_one()  # type: ignore[attr-defined]


def insert_stored(db: Session, row: Base, statement: Insert) -> bool:
    """Write the new ``row`` with ``statement`` (an INSERT of its table returning the id,
    which may insert nothing, as with ``ON CONFLICT DO NOTHING``) and, when it did, make
    ``row`` a stored object of the session as a flush would, without one: the ORM's unit
    of work for one new row cost several times the statement (opening a case). Every
    column is written, those not set as NULL, and set on ``row``, so reading one asks
    nothing; a column with a default must be set (it would not get it here). False when
    nothing was inserted: ``row`` stays new and out of the session."""
    table = cast(Table, row.__table__)
    given = vars(row)
    values: dict[str, Any] = {}
    for column in table.c:
        if column.primary_key:
            continue
        if column.key not in given:
            if column.default is not None or column.server_default is not None:
                raise ValueError(f"{table.name}.{column.key} has a default: set it")
            setattr(row, column.key, None)
        values[column.key] = given[column.key]
    new_id = db.connection().execute(statement, values).scalar()
    if new_id is None:
        return False
    row.id = new_id  # type: ignore[attr-defined]
    make_transient_to_detached(row)  # what it holds is what the database has
    db.add(row)
    return True


@cache
def _inserts(table: Table) -> Insert:
    # built once: building a statement and its cache key cost more than running it
    return insert(table).returning(table.c.id)


def insert_unless_taken(db: Session, row: Base, *unique: str) -> bool:
    """``insert_now``, unless a row already holds the same values in the ``unique`` columns
    (those of a unique constraint): then nothing is written, ``row`` gets no id and the
    answer is False. One statement where a look-up and the INSERT took two."""
    table = cast(Table, row.__table__)
    values = {key: value for key, value in vars(row).items() if key in table.c}
    connection = db.connection()
    statement = inserts_unless_taken(table, unique, connection.dialect.name)
    new_id = connection.execute(statement, values).scalar_one_or_none()
    if new_id is None:
        return False
    row.id = new_id  # type: ignore[attr-defined]
    return True


@cache
def inserts_unless_taken(table: Table, unique: tuple[str, ...], dialect: str) -> Insert:
    """INSERT … ON CONFLICT (unique) DO NOTHING RETURNING id, SQLite and PostgreSQL alike,
    built once per table: ``insert_unless_taken``'s, and ``insert_stored``'s for a case."""
    build = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = build(table).on_conflict_do_nothing(index_elements=[table.c[n] for n in unique])
    return statement.returning(table.c.id)


def _configure_sqlite(engine: Engine, busy_timeout: float) -> None:
    """Pragmas, and explicit BEGIN so SAVEPOINT and write locking behave.

    pysqlite opens transactions lazily on its own; SQLAlchemy's documented fix is to switch
    that off and emit BEGIN ourselves. IMMEDIATE takes the write lock at the start, so two
    writers queue on ``busy_timeout`` instead of failing when one upgrades a read lock.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _batch_inserts_of_new_rows(engine: Engine) -> None:
    """One INSERT for the new rows of a table a flush writes (a case's timeline events),
    instead of one each.

    The ORM must learn each new row's id; it asks for them in one ``INSERT … VALUES (…),
    (…) RETURNING id`` only where it can pair the ids with its rows, and SQLite's RETURNING
    comes in no promised order, so SQLAlchemy sends one INSERT per row there. The ids
    themselves are in order: an INTEGER PRIMARY KEY row with no id given gets one more than
    the largest id in the table, and a multi-row INSERT adds its rows in the order of its
    VALUES, so the ids ascend in that order (as MariaDB's AUTO_INCREMENT, for which SQLAlchemy
    pairs them by sorting). Saying so lets SQLAlchemy do the same here. (SQLite picks a
    random free id only once an id of 2**63 - 1 exists, which no table here comes near.)"""
    engine.dialect.insertmanyvalues_implicit_sentinel = InsertmanyvaluesSentinelOpts.AUTOINCREMENT


class TakeTurnsPool(QueuePool):
    """SQLite's one connection, handed to the threads that ask for it in the order they
    asked. ``QueuePool`` lets a thread that returns the connection take it straight back
    before a waiting thread wakes: the deferred-work processor, going from one batch to the
    next, and the writer thread (``kefu.dbwork``), from one group to the next, kept it for
    seconds while the other waited."""

    def __init__(self, creator: Any, **kw: Any) -> None:
        super().__init__(creator, **kw)
        self._turns: deque[threading.Event] = deque()
        self._turns_lock = threading.Lock()
        self._taken = False

    def _do_get(self) -> ConnectionPoolEntry:
        with self._turns_lock:
            if self._taken or self._turns:
                turn = threading.Event()
                self._turns.append(turn)
            else:
                turn = None
                self._taken = True
        if turn is not None and not turn.wait(self._timeout):
            with self._turns_lock:
                if turn in self._turns:  # not handed over meanwhile
                    self._turns.remove(turn)
                    raise SqlalchemyTimeout(
                        f"no turn for the database connection in {self._timeout:.0f} s"
                    )
        try:
            return super()._do_get()
        except BaseException:
            self._next_turn()
            raise

    def _do_return_conn(self, record: ConnectionPoolEntry) -> None:
        super()._do_return_conn(record)
        self._next_turn()

    def _next_turn(self) -> None:
        with self._turns_lock:
            if self._turns:
                self._turns.popleft().set()  # still taken: it is the next thread's
            else:
                self._taken = False


def make_engine(url: str, *, busy_timeout: float = 30) -> Engine:
    """``busy_timeout``: seconds a transaction waits for SQLite's write lock, or for a pooled
    connection, before ``sqlalchemy.exc.OperationalError`` ("database is locked") or
    ``TimeoutError``, which the app answers with 503 and Retry-After (``kefu.app``)."""
    # Parameters can hold message texts with one-time codes; keep them out of SQL logs.
    if url.startswith("sqlite"):
        # Every transaction takes SQLite's one write lock (BEGIN IMMEDIATE), so a process
        # gains nothing from a second connection; with one, waiting threads queue in order
        # on the pool and run as soon as it is free, instead of sleeping and retrying in
        # SQLite's busy handler (up to 100 ms a turn, unfair: with 50 clients some waited
        # 30 s), and in the order they asked (``TakeTurnsPool``). Other processes still
        # queue on ``busy_timeout``.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_timeout},
            hide_parameters=True,
            poolclass=TakeTurnsPool,
            pool_size=1,
            max_overflow=0,
            pool_timeout=busy_timeout,
        )
        _configure_sqlite(engine, busy_timeout)
        _batch_inserts_of_new_rows(engine)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=20,
        max_overflow=0,
        pool_timeout=busy_timeout,
        hide_parameters=True,
    )


READ_CONNECTIONS = 4  # a process's read-only SQLite connections (``make_read_engine``)


def make_read_engine(url: str, *, busy_timeout: float = 30) -> Engine:
    """SQLite connections that only read, beside the writer's one (WAL lets readers run
    while it writes): a question that must not queue behind the writes (who a request's
    token belongs to). Each SELECT runs on its own, so it sees every transaction committed
    before it, a revoked token included; ``query_only`` refuses any write."""
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": busy_timeout},
        hide_parameters=True,
        pool_size=READ_CONNECTIONS,
        max_overflow=0,
        pool_timeout=busy_timeout,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # no transaction around the reads
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    return engine


def make_async_engine(url: str) -> AsyncEngine:
    """The same PostgreSQL database for code that waits on the event loop instead of a
    thread (``kefu.dbwork``, which retries work whose connection the server had closed, so
    connections are not pinged before use). A smaller pool, and no overflow: a burst waits
    for a pooled connection instead of opening and closing extra ones (each a server
    process)."""
    return create_async_engine(
        url, pool_size=12, max_overflow=0, pool_timeout=30, hide_parameters=True
    )


@lru_cache
def get_engine() -> Engine:
    settings = get_settings()
    path = settings.sqlite_path()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.database_url, busy_timeout=settings.database_busy_timeout)


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


@lru_cache(maxsize=8)  # a test server per test database; a deployment has one
def read_sessions(url: str) -> sessionmaker[Session] | None:
    """Sessions on read-only connections to the SQLite database at ``url``
    (``make_read_engine``); None for PostgreSQL, where every session reads beside the
    others."""
    if not url.startswith("sqlite"):
        return None
    reader = make_read_engine(url, busy_timeout=get_settings().database_busy_timeout)
    return sessionmaker(bind=reader, expire_on_commit=False)


def get_db() -> Iterator[Session]:
    """One session per request; the route that changes data commits it."""
    session = get_sessionmaker()()
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def sessions_of(app: FastAPI) -> Iterator[Session]:
    """A session for work outside a request (a socket's), from the same ``get_db`` the
    HTTP routes use, so a test or deployment that overrides it is honoured."""
    provider = app.dependency_overrides.get(get_db, get_db)
    produced = provider()
    session: Session = next(produced)
    try:
        yield session
    finally:
        produced.close()


DbSession = Annotated[Session, Depends(get_db)]
