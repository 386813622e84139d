"""Where the chat sockets' database work runs without blocking the event loop.

PostgreSQL: one transaction per operation (row locks let them run side by side), run on
the event loop itself through SQLAlchemy's asyncio bridge: the operation is ordinary
synchronous ORM code, and each wait for the server hands the loop back
(``AsyncSession.run_sync``, greenlets). Worker threads did the same before, but every reply
from the server then had to win the interpreter lock back from the busy loop thread — a
convoy that, with two processes carrying 1,000 chats on two cores, made the median message
take 1.5 s instead of 0.17 s (bench/chat.py). (The assistant's HTTP API stays in worker
threads on PostgreSQL: its turns are mostly computation, and bench/bot.py showed no gain
from the loop; on SQLite its turns go through the writer thread below.)
Threads remain for sessions the app is given (``get_db`` overridden, as tests do with a
session inside a rolled-back transaction): at most ``PG_THREADS`` at once, fewer than the
engine's pool of connections, so no connection is opened and closed again for a burst
(each costs PostgreSQL a process).

SQLite has one writer at a time and makes the others wait by sleeping and retrying
(``busy_timeout``), up to 100 ms a turn; with dozens of threads queueing for the lock, those
sleeps become the latency, and each commit costs the same whatever it carries. So on SQLite
one thread per process runs the operations, and whatever queued up while it worked goes
into the next transaction together (group commit): each operation in a savepoint of its
own, so one that fails is undone alone and gets its own error, and one commit for all. The
thread exits after a minute without work and starts again on demand.
"""

from __future__ import annotations

import asyncio
import contextvars
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from anyio import CapacityLimiter, to_thread
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker

from kefu.config import Settings
from kefu.db import READ_CONNECTIONS, get_db, make_async_engine, read_sessions, sessions_of

T = TypeVar("T")
Opener = Callable[[], AbstractContextManager[Session]]
MAX_GROUP = 64
PG_THREADS = 8
IDLE_EXIT_SECONDS = 60.0

# the work, its future, and whether it may run without a savepoint when alone (``run``)
_Job = tuple[Callable[[Session], Any], "Future[Any]", bool]


class GroupCommitter:
    def __init__(self, open_session: Opener) -> None:
        self.open_session = open_session
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, work: Callable[[Session], T], *, alone: bool = False) -> Future[T]:
        future: Future[T] = Future()
        self._jobs.put((work, future, alone))
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="kefu-chat-db", daemon=True)
                self._thread.start()
        return future

    def _run(self) -> None:
        while True:
            try:
                first = self._jobs.get(timeout=IDLE_EXIT_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._jobs.empty():
                        self._thread = None
                        return
                continue
            group = [first]
            while len(group) < MAX_GROUP:
                try:
                    group.append(self._jobs.get_nowait())
                except queue.Empty:
                    break
            self._run_group(group)

    def _run_group(self, group: list[_Job]) -> None:
        outcomes: list[tuple[Future[Any], Any, BaseException | None]] = []
        try:
            with self.open_session() as db:
                if len(group) == 1 and group[0][2]:
                    # a socket's work alone (nothing else waited, as on a quiet server): no
                    # savepoint, whose SAVEPOINT and RELEASE were two of a chat message's
                    # eight statements; its failure rolls the transaction back, below
                    work, future, _alone = group[0]
                    outcomes.append((future, work(db), None))
                else:
                    for work, future, _alone in group:
                        try:
                            with db.begin_nested():
                                outcomes.append((future, work(db), None))
                        except Exception as exc:
                            outcomes.append((future, None, exc))
                db.commit()
        except Exception as exc:  # the commit (or the one work) failed: nothing stands
            outcomes = [(future, None, error or exc) for future, _v, error in outcomes]
            done = {id(future) for future, _v, _e in outcomes}
            outcomes += [(f, None, exc) for _w, f, _a in group if id(f) not in done]
        for future, value, error in outcomes:
            if future.cancelled():  # its socket closed meanwhile: nobody waits for it
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(value)


class DbWork:
    """Runs ``work(db)`` for a socket and commits; see the module's description.

    ``database_url`` (PostgreSQL only) sends the work through the event loop; without it,
    sessions come from ``open_session`` in threads."""

    def __init__(
        self,
        open_session: Opener,
        *,
        sqlite: bool,
        database_url: str | None = None,
        readers: sessionmaker[Session] | None = None,
    ) -> None:
        self.open_session = open_session
        self.readers = readers
        self.group = GroupCommitter(open_session) if sqlite else None
        self.database_url = None if sqlite else database_url
        self._limiter: CapacityLimiter | None = None
        self._reading_threads: ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None

    async def run(self, work: Callable[[Session], T]) -> T:
        if self.group is not None:
            return await asyncio.wrap_future(self.group.submit(work, alone=True))
        if self.database_url is not None:
            return await self._on_loop(work)
        if self._limiter is None:
            self._limiter = CapacityLimiter(PG_THREADS)
        return await to_thread.run_sync(self._alone, work, limiter=self._limiter)

    async def request(self, work: Callable[[Session], T]) -> T:
        """``work(db)`` for an HTTP request, committed: on SQLite in the writer thread with
        the requests queued behind it; on PostgreSQL in one worker thread of its own (a
        request's work is mostly Python, which gains nothing from the event loop)."""
        if self.group is not None:
            return await asyncio.wrap_future(self.group.submit(work))
        return await to_thread.run_sync(self._alone, work)

    async def read(self, work: Callable[[Session], T]) -> T:
        """``work(db)`` that only reads, for an HTTP request: on SQLite on a read-only
        connection in a worker thread, beside the writer thread instead of in its queue
        (each request's staff check went through that queue before its case did, and its
        answer waited for its group's commit); otherwise as ``request``."""
        if self.readers is None:
            return await self.request(work)
        # as many threads as read connections: with anyio's threads (up to 40) the requests
        # beyond the connections each woke a thread only to wait in the pool for one
        if self._reading_threads is None:
            self._reading_threads = ThreadPoolExecutor(
                READ_CONNECTIONS, thread_name_prefix="kefu-read"
            )
        context = contextvars.copy_context()  # the request's id for what the work logs
        return await asyncio.wrap_future(
            self._reading_threads.submit(context.run, self._reading, work)
        )

    def _reading(self, work: Callable[[Session], T]) -> T:
        assert self.readers is not None
        with self.readers() as db:
            return work(db)

    def _alone(self, work: Callable[[Session], T]) -> T:
        with self.open_session() as db:
            value = work(db)
            db.commit()
            return value

    async def _on_loop(self, work: Callable[[Session], T], *, again: bool = False) -> T:
        """Connections are not tested before use (a round trip per operation): when the
        server has closed one (restarted, or idle too long), the work fails before its
        commit, so nothing was done and it runs once more on a new connection."""
        async with self._async_sessions()() as session:
            try:
                value = await session.run_sync(work)
            except DBAPIError as exc:
                if again or not exc.connection_invalidated:
                    raise
            else:
                await session.commit()
                return value
        return await self._on_loop(work, again=True)

    def _async_sessions(self) -> async_sessionmaker[AsyncSession]:
        # an async connection belongs to the loop that opened it
        loop = asyncio.get_running_loop()
        if self._sessions is None or self._loop is not loop:
            assert self.database_url is not None
            self._loop = loop
            self._engine = make_async_engine(self.database_url)
            self._sessions = async_sessionmaker(self._engine, expire_on_commit=False)
        return self._sessions

    async def close(self) -> None:
        """Close the event loop's connections (at shutdown, on the loop that used them)
        and let the reading threads go."""
        if self._reading_threads is not None:
            self._reading_threads.shutdown(wait=False)
            self._reading_threads = None
        if self._engine is not None and self._loop is asyncio.get_running_loop():
            await self._engine.dispose()
        self._engine = self._sessions = self._loop = None


def for_app(app: FastAPI) -> DbWork:
    """The app's ``DbWork``. The event loop (PostgreSQL) and the read-only connections
    (SQLite) open their own connections: to the configured database, or to the one an
    overridden ``get_db`` serves when the app was told its URL (``app.state.database_url``:
    a test server on a database of its own); a session handed in by a test stays in a
    thread."""
    work: DbWork | None = getattr(app.state, "db_work", None)
    if work is None:
        settings: Settings = app.state.settings
        url: str | None = getattr(app.state, "database_url", None)
        if url is None and get_db not in app.dependency_overrides:
            url = settings.database_url
        sqlite = settings.database_url.startswith("sqlite")
        work = DbWork(
            lambda: sessions_of(app),
            sqlite=sqlite,
            database_url=url,
            # not for a session handed in by a test: it sits in a transaction no other
            # connection sees
            readers=read_sessions(url) if sqlite and url is not None else None,
        )
        app.state.db_work = work
    return work


async def close_for_app(app: FastAPI) -> None:
    """At shutdown: the event loop's own database connections."""
    work: DbWork | None = getattr(app.state, "db_work", None)
    if work is not None:
        await work.close()
