"""The chat sockets' database work on PostgreSQL's event-loop path survives the server
closing its connections (a restart, an idle timeout) without doing anything twice."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from kefu.chat import service as chat
from kefu.chat.models import Conversation
from kefu.dbwork import DbWork


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
