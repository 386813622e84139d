"""A process's one SQLite connection goes to the threads in the order they asked for it: a
thread that gives it back and asks again at once (the deferred-work processor between
batches, the writer thread between groups) goes behind the ones already waiting."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import TimeoutError as PoolTimeout

from kefu.db import TakeTurnsPool, make_engine


def _until_waiting(engine: Engine, count: int) -> None:
    pool = engine.pool
    assert isinstance(pool, TakeTurnsPool)
    deadline = time.monotonic() + 10
    while len(pool._turns) < count:
        assert time.monotonic() < deadline, "the other thread never asked"
        time.sleep(0.001)


def test_a_thread_that_gives_the_connection_back_waits_behind_the_others(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    order: list[str] = []

    def take(name: str) -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            order.append(name)

    held = engine.connect()
    held.execute(text("SELECT 1"))
    waiters = [threading.Thread(target=take, args=(f"waiting {n}",)) for n in (1, 2)]
    for number, waiter in enumerate(waiters, start=1):
        waiter.start()
        _until_waiting(engine, number)
    held.close()
    take("gave it back and asked again")
    for waiter in waiters:
        waiter.join()
    assert order == ["waiting 1", "waiting 2", "gave it back and asked again"]


def test_a_thread_that_waited_too_long_gives_up_its_turn(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'turns.db'}", busy_timeout=0.2)
    failures: list[BaseException] = []

    def take() -> None:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except PoolTimeout as error:
            failures.append(error)

    with engine.connect() as held:
        held.execute(text("SELECT 1"))
        waiter = threading.Thread(target=take)
        waiter.start()
        waiter.join()
    assert len(failures) == 1
    with engine.connect() as connection:  # the turn it gave up is not left in the queue
        assert connection.execute(text("SELECT 1")).scalar() == 1
