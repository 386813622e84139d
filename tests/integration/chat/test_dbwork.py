"""The chat sockets' database work on PostgreSQL's event-loop path survives the server
closing its connections (a restart, an idle timeout) without doing anything twice."""

from __future__ import annotations

import asyncio
import contextlib
import threading

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker
from tests.statements import statements_sent

from kefu.chat import service as chat
from kefu.chat.models import Conversation
from kefu.context import request_id_var
from kefu.db import READ_CONNECTIONS, read_sessions
from kefu.dbwork import DbWork, GroupCommitter
from kefu.quality import events as quality_events
from kefu.quality import metrics, rebuild
from kefu.quality.models import QualityRollup


def test_work_reruns_once_on_a_connection_the_server_closed(isolated_database: Engine) -> None:
    if isolated_database.dialect.name != "postgresql":
        pytest.skip("the event-loop path is PostgreSQL's")
    url = isolated_database.url.render_as_string(hide_password=False)
    work = DbWork(
        lambda: pytest.fail("the event-loop path opens sessions of its own"),
        sqlite=False,
        database_url=url,
    )

    def start(db: Session) -> int:
        return chat.start(db, channel="web", language="zh-CN").id

    def backend(db: Session) -> int:
        return int(db.scalar(text("select pg_backend_pid()")))

    async def scenario() -> tuple[int, int, int]:
        first = await work.run(start)
        pid = await work.run(backend)  # the one pooled connection used so far
        with isolated_database.connect() as admin:
            admin.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid})
        second = await work.run(start)
        again = await work.run(backend)
        await work.close()
        return first, second, again if again != pid else -1

    first, second, new_backend = asyncio.run(scenario())
    assert second != first and new_backend != -1
    with Session(isolated_database) as db:
        assert db.scalar(select(func.count()).select_from(Conversation)) == 2


def test_reads_beside_the_writer_use_a_thread_per_read_connection_and_the_callers_context(
    isolated_database: Engine,
) -> None:
    """``DbWork.read`` on SQLite: sixteen reads at once run in at most ``READ_CONNECTIONS``
    threads (one each beyond that only waited in the pool for a connection) and see the
    request's context (its id, for what they log)."""
    if isolated_database.dialect.name != "sqlite":
        pytest.skip("reads beside the writer are SQLite's")
    url = isolated_database.url.render_as_string(hide_password=False)
    work = DbWork(
        lambda: pytest.fail("a read opens no writer's session"),
        sqlite=True,
        readers=read_sessions(url),
    )
    started = threading.Barrier(READ_CONNECTIONS, timeout=10)
    threads: set[str] = set()

    def read(db: Session) -> str | None:
        threads.add(threading.current_thread().name)
        with contextlib.suppress(threading.BrokenBarrierError):
            started.wait()  # the first ones at once: each in a thread of its own
        assert db.scalar(text("select 1")) == 1
        return request_id_var.get()

    async def one(n: int) -> str | None:
        request_id_var.set(f"request-{n}")
        return await work.read(read)

    async def scenario() -> list[str | None]:
        seen = await asyncio.gather(*(one(n) for n in range(16)))
        await work.close()
        return seen

    assert asyncio.run(scenario()) == [f"request-{n}" for n in range(16)]
    assert len(threads) == READ_CONNECTIONS


class _Refused(Exception):
    pass


def _rollup_rows(db: Session) -> list[tuple[object, ...]]:
    table = QualityRollup.__table__
    key = [table.c.grain, table.c.period_start, table.c.channel, table.c.category]
    counters = [table.c[name] for name in metrics.COUNTERS]
    found = db.execute(select(*key, table.c.staff_id, *counters).order_by(*key, "staff_id"))
    # rows whose counters all went back to zero say nothing; float sums added in another
    # order may differ in the last bits
    return [
        tuple(round(v, 6) if isinstance(v, float) else v for v in row)
        for row in found
        if any(row[5:])
    ]


def test_quality_figures_of_undone_savepoints_do_not_reach_the_rollups(
    isolated_database: Engine,
) -> None:
    """One group: a turn that fails after recording its events, a turn that succeeds, and a
    turn whose inner savepoint (a refused support command) recorded events and rolled
    back. Only what stands reaches the rollups: they equal a rebuild from the events."""

    def arrive(db: Session) -> None:
        conversation = chat.start(db, channel="web", language="zh-CN")
        quality_events.record(db, "contact_arrived", channel="web", conversation_id=conversation.id)

    def fails(db: Session) -> None:
        with quality_events.batched(db):
            arrive(db)
            raise _Refused

    def succeeds(db: Session) -> None:
        with quality_events.batched(db):
            arrive(db)

    def refused_inside(db: Session) -> None:
        with quality_events.batched(db):
            arrive(db)
            with contextlib.suppress(_Refused), db.begin_nested():
                arrive(db)
                raise _Refused

    sessions = sessionmaker(isolated_database)
    committer = GroupCommitter(sessions)
    gate = threading.Event()
    blocked = committer.submit(lambda db: gate.wait(10))  # the next three form one group
    futures = [committer.submit(work) for work in (fails, succeeds, refused_inside)]
    gate.set()
    assert blocked.result(10)
    with pytest.raises(_Refused):
        futures[0].result(10)
    futures[1].result(10)
    futures[2].result(10)
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(Conversation)) == 2
        kept = _rollup_rows(db)
        assert kept
        rebuild.rebuild_all(db)
        assert _rollup_rows(db) == kept


def test_a_sockets_work_alone_runs_without_a_savepoint_and_its_failure_writes_nothing(
    isolated_database: Engine,
) -> None:
    """A socket's work that found nothing else queued runs in the transaction itself (no
    SAVEPOINT, RELEASE): one that fails after writing gets its error and leaves nothing;
    the next is written as usual."""
    sessions = sessionmaker(isolated_database)
    committer = GroupCommitter(sessions)

    def start(db: Session) -> int:
        return chat.start(db, channel="web", language="zh-CN").id

    def starts_and_fails(db: Session) -> None:
        start(db)
        raise _Refused

    with statements_sent(isolated_database) as said:
        with pytest.raises(_Refused):
            committer.submit(starts_and_fails, alone=True).result(10)
        kept = committer.submit(start, alone=True).result(10)
    assert not [s for s in said if s.upper().startswith(("SAVEPOINT", "RELEASE"))]
    with sessions() as db:
        assert db.scalars(select(Conversation.id)).all() == [kept]
