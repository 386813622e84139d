"""Deferred work (``kefu.deferred``): written in the change's transaction, done after it,
retried when it fails, and never lost when the server is killed between the two."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.orm import Session, sessionmaker
from tests.conftest import BACKEND
from tests.factories import STAFF_PASSWORD, make_customer, make_staff
from tests.integration.email.mail_processes import free_port, kefu_env, start, stop, wait_for
from tests.statements import statements_sent

from kefu import audit, deferred, migrate
from kefu.cases import conversation
from kefu.cases import service as cases_service
from kefu.config import get_settings
from kefu.db import make_engine
from kefu.deferred import DeferredWork
from kefu.quality import events, metrics, rebuild
from kefu.quality.models import QualityContact, QualityRollup
from kefu.search import service as search_service


@pytest.fixture
def outbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("KEFU_DEFERRED_WORK", "outbox")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("KEFU_DEFERRED_WORK")
    get_settings.cache_clear()


def _open_case(db: Session, customer_id: int, subject: str) -> str:
    case = cases_service.open_case(
        db,
        new=cases_service.NewCase(
            customer_id=customer_id,
            category="recharge_not_credited",
            channel="app",
            subject=subject,
            description=f"{subject}，请尽快处理",
        ),
        actor=audit.Actor.system(),
        settings=get_settings(),
    )
    return case.reference


def _found(db: Session, query: str) -> list[str]:
    return [hit.ref for hit in search_service.search(db, kind="case", query=query)]


def _contacts(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(QualityContact)) or 0


def test_work_is_written_with_the_change_and_done_after_the_commit(
    isolated_database: Engine, outbox: None
) -> None:
    sessions = sessionmaker(bind=isolated_database, expire_on_commit=False)
    with sessions() as db:
        customer = make_customer(db)
        reference = _open_case(db, customer.id, "充值没到账 钱包余额")
        db.rollback()  # a change rolled back leaves no work behind
        assert db.scalar(select(func.count()).select_from(DeferredWork)) == 0
        customer = make_customer(db)
        reference = _open_case(db, customer.id, "充值没到账 钱包余额")
        db.commit()
        kinds = sorted(db.scalars(select(DeferredWork.kind)))
        assert kinds == [cases_service.OPENED]
        assert _found(db, "钱包余额") == [] and _contacts(db) == 0
    assert deferred.run_until_empty(sessions) == 1
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(DeferredWork)) == 0
        assert _found(db, "钱包余额") == [reference]
        contact = db.scalar(select(QualityContact))
        assert contact is not None and contact.case_reference == reference


_FLAKY_CALLS: list[int] = []


@deferred.handler("test.flaky")
def _flaky(db: Session, payload: dict[str, Any]) -> None:
    _FLAKY_CALLS.append(payload["n"])
    if payload["n"] == 2 and _FLAKY_CALLS.count(2) <= 2:  # in the batch, and alone
        raise RuntimeError("the relay is down")


def test_a_failing_row_waits_for_a_retry_and_the_others_are_done(
    isolated_database: Engine, outbox: None
) -> None:
    sessions = sessionmaker(bind=isolated_database, expire_on_commit=False)
    _FLAKY_CALLS.clear()
    with sessions() as db:
        for n in (1, 2, 3):
            deferred.defer(db, "test.flaky", {"n": n})
        db.commit()
    assert deferred.run_until_empty(sessions) == 2
    with sessions() as db:
        [left] = db.scalars(select(DeferredWork))
        assert left.payload == {"n": 2} and left.attempts == 1
        assert left.last_error == "RuntimeError: the relay is down"
        assert left.due_at > left.created_at  # not before its back-off
        left.due_at = left.created_at  # time passes
        db.commit()
    assert deferred.run_until_empty(sessions) == 1
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(DeferredWork)) == 0
    # the batch stopped at 2 and was rolled back; then each row alone; then 2 again
    assert _FLAKY_CALLS == [1, 2, 1, 2, 3, 2]


@deferred.handler("test.slow")
def _slow(db: Session, payload: dict[str, Any]) -> None:
    time.sleep(deferred.BATCH_SECONDS * 1.1)  # a batch's time is up after one


@pytest.mark.skipif(BACKEND != "sqlite", reason="the writer thread's turns are SQLite's")
def test_a_batch_of_rows_that_waited_runs_longer(isolated_database: Engine, outbox: None) -> None:
    """On SQLite a batch ends after ``BATCH_SECONDS`` so that requests waiting to write go
    between batches; rows due for ``BEHIND_SECONDS`` say the processor is falling behind the writes
    (the writer's turns last as long as its queue), and their batch runs for
    ``BEHIND_BATCH_SECONDS``: both rows in one batch, where each takes a batch's time."""
    sessions = sessionmaker(bind=isolated_database, expire_on_commit=False)
    with sessions() as db:
        for n in (1, 2):
            deferred.defer(db, "test.slow", {"n": n})
        db.flush()
        for row in db.scalars(select(DeferredWork)):
            row.due_at -= timedelta(seconds=deferred.BEHIND_SECONDS)
        db.commit()
    assert deferred.run_due(sessions) == 2


@deferred.handler("test.clash")
def _clash(db: Session, payload: dict[str, Any]) -> None:
    if payload["n"] == 2:  # a row without its times: the flush fails
        db.add(DeferredWork(kind="test.clash", payload={}))
        db.flush()


def test_a_row_failing_in_a_flush_waits_for_a_retry_and_the_others_are_done(
    isolated_database: Engine, outbox: None
) -> None:
    """A failed flush leaves the batch's rows unreadable until the rollback, which expires
    them: the rows to do alone were read from them there, and the processor failed."""
    sessions = sessionmaker(bind=isolated_database, expire_on_commit=False)
    with sessions() as db:
        for n in (1, 2, 3):
            deferred.defer(db, "test.clash", {"n": n})
        db.commit()
    assert deferred.run_until_empty(sessions) == 2
    with sessions() as db:
        [left] = db.scalars(select(DeferredWork))
        assert left.payload["n"] == 2 and left.attempts == 1
        assert left.last_error is not None and left.last_error.startswith("IntegrityError")


@deferred.handler("test.index")
def _index(db: Session, payload: dict[str, Any]) -> None:
    search_service.index_document(
        db, kind="test", ref=payload["ref"], title=payload["title"], body=payload["title"]
    )


def test_work_done_together_at_the_end_of_a_batch_loses_no_row_when_one_fails(
    isolated_database: Engine, outbox: None
) -> None:
    """The batch's documents are indexed together when it ends; one that cannot be indexed
    (an empty ref) fails the batch there, and each row is then done alone: the others are
    indexed and only the bad one waits, with its error."""
    sessions = sessionmaker(bind=isolated_database, expire_on_commit=False)
    with sessions() as db:
        for ref, title in (("T-1", "提现失败"), ("", "充值没到账"), ("T-3", "提现到账慢")):
            deferred.defer(db, "test.index", {"ref": ref, "title": title})
        db.commit()
    assert deferred.run_until_empty(sessions) == 2
    with sessions() as db:
        [left] = db.scalars(select(DeferredWork))
        assert left.payload == {"ref": "", "title": "充值没到账"} and left.attempts == 1
        assert left.last_error == "InvalidInput: bad search reference"
        found = search_service.search(db, kind="test", query="提现")
        assert sorted(hit.ref for hit in found) == ["T-1", "T-3"]


def test_an_unknown_kind_fails_in_the_change(db: Session) -> None:
    with pytest.raises(KeyError):
        deferred.defer(db, "no.such.work", {})


def _serve(database: Path, tmp_path: Path, name: str, **extra: str) -> tuple[str, Any]:
    port = free_port()
    env = kefu_env(
        f"sqlite:///{database}",
        tmp_path,
        KEFU_DEFERRED_WORK="outbox",
        KEFU_JOBS_INLINE="false",
        KEFU_SMTP_ENABLED="false",
        KEFU_LOG_LEVEL="WARNING",
        **extra,
    )
    process = start(["serve", "--host", "127.0.0.1", "--port", str(port)], env, tmp_path / name)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(up, seconds=180, what=f"kefu serve ({name})")
    return base, process


def test_a_server_killed_between_commit_and_processing_does_the_work_after_restart(
    tmp_path: Path,
) -> None:
    database = tmp_path / "kefu.db"
    engine = make_engine(f"sqlite:///{database}")
    migrate.upgrade(engine)
    with Session(engine) as db:
        staff = make_staff(db, "agent")
        customer = make_customer(db)
        db.commit()
        username, customer_id = staff.username, customer.id
    engine.dispose()

    # the first server does no deferred work itself (as when a worker is meant to)
    base, first = _serve(database, tmp_path, "first.log", KEFU_DEFERRED_INLINE="false")
    try:
        token = httpx.post(
            f"{base}/api/v1/auth/token",
            json={"username": username, "password": STAFF_PASSWORD},
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        created = httpx.post(
            f"{base}/api/v1/cases",
            headers=headers,
            json={
                "customer_id": customer_id,
                "category": "recharge_not_credited",
                "subject": "充值失败 钱包余额没变",
                "description": "昨天充值了五百元，钱包余额没有变化",
            },
        )
        assert created.status_code == 201, created.text
        reference = created.json()["reference"]
        with sqlite3.connect(database) as raw:
            waiting = raw.execute("SELECT count(*) FROM deferred_work").fetchone()[0]
        assert waiting == 1  # committed with the case, not yet done
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)

    base, second = _serve(database, tmp_path, "second.log")
    try:
        token = httpx.post(
            f"{base}/api/v1/auth/token",
            json={"username": username, "password": STAFF_PASSWORD},
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}

        def searchable(text: str) -> list[str]:
            hits = httpx.get(f"{base}/api/v1/cases", params={"text": text}, headers=headers).json()
            return [case["reference"] for case in hits]

        assert wait_for(lambda: searchable("钱包余额"), seconds=10) == [reference]
        with sqlite3.connect(database) as raw:
            assert raw.execute("SELECT count(*) FROM deferred_work").fetchone()[0] == 0
            contacts = raw.execute("SELECT case_reference FROM quality_contact").fetchall()
        assert contacts == [(reference,)]
        # a case opened now is searchable within a second of its creation
        started = time.monotonic()
        again = httpx.post(
            f"{base}/api/v1/cases",
            headers=headers,
            json={
                "customer_id": customer_id,
                "category": "recharge_not_credited",
                "subject": "提现 银行卡 未到账",
            },
        ).json()["reference"]
        assert wait_for(lambda: searchable("银行卡"), seconds=5) == [again]
        assert time.monotonic() - started < 2  # 1 s goal, a second of slack for loaded CI
    finally:
        stop(second)


def _rollups(db: Session) -> list[tuple[object, ...]]:
    table = QualityRollup.__table__
    counters = [table.c[name] for name in metrics.COUNTERS]
    key = [table.c.grain, table.c.period_start, table.c.channel, table.c.category]
    found = db.execute(select(*key, table.c.staff_id, *counters).order_by(*key, "staff_id"))
    return [
        tuple(round(v, 6) if isinstance(v, float) else v for v in row)
        for row in found
        if any(row[5:])
    ]


def test_a_batch_of_deferred_figures_sums_to_what_a_rebuild_gives(
    isolated_database: Engine, outbox: None
) -> None:
    sessions = sessionmaker(bind=isolated_database, expire_on_commit=False)
    with sessions() as db:
        customers = [make_customer(db) for _ in range(3)]
        for n in range(12):  # each customer's cases repeat the one before
            _open_case(db, customers[n % 3].id, f"充值没到账 第{n}次")
        db.commit()
    assert deferred.run_until_empty(sessions) == 12
    with sessions() as db:
        repeats = db.scalars(select(QualityContact.is_repeat)).all()
        assert sorted(repeats) == [False] * 3 + [True] * 9
        loaded = _rollups(db)
        assert loaded
        rebuild.rebuild_all(db)
        assert _rollups(db) == loaded


def test_a_batch_reads_its_cases_and_their_new_contacts_once_and_writes_their_figures_together(
    isolated_database: Engine, outbox: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one batch for the six rows, however slow the machine
    monkeypatch.setattr(deferred, "BATCH_SECONDS", 60)
    monkeypatch.setattr(deferred, "BEHIND_BATCH_SECONDS", 60)
    sessions = sessionmaker(bind=isolated_database, expire_on_commit=False)
    with sessions() as db:
        customers = [make_customer(db) for _ in range(2)]
        references = [
            _open_case(db, customers[n % 2].id, f"充值没到账 订单{n}号") for n in range(6)
        ]
        db.commit()
    with statements_sent(isolated_database) as sent:
        assert deferred.run_until_empty(sessions) == 6
    reading = [s for s in sent if s.startswith("SELECT")]
    # on PostgreSQL read again, with the text, under their documents' locks
    # (tests/integration/cases/test_deferred_reindex.py)
    assert sum('FROM "case"' in s for s in reading) == (2 if BACKEND == "postgres" else 1)
    assert sum("FROM case_event" in s for s in reading) == 1
    assert sum("FROM quality_contact_ref" in s for s in reading) == 1
    # the rows' events, refs and repeat marks are written together, not row by row
    assert sum(s.startswith("INSERT INTO contact_event") for s in sent) == 1
    assert sum(s.startswith("INSERT INTO quality_contact_ref") for s in sent) == 1
    assert sum(s.startswith("UPDATE quality_contact SET") for s in sent) == 1
    with sessions() as db:
        for n, reference in enumerate(references):
            assert _found(db, f"订单{n}号") == [reference]
        loaded = _rollups(db)
        rebuild.rebuild_all(db)
        assert _rollups(db) == loaded
        assert _contacts(db) == 6


def test_a_case_replied_to_before_its_deferred_work_ran_counts_one_contact(
    isolated_database: Engine, outbox: None
) -> None:
    """The reply's first-reply event made the case's contact before the batch: the batch
    finds it there instead of taking it for new, and indexes the reply."""
    sessions = sessionmaker(bind=isolated_database, expire_on_commit=False)
    with sessions() as db:
        customer = make_customer(db)
        staff = make_staff(db)
        reference = _open_case(db, customer.id, "充值没到账 钱包余额")
        db.commit()
        case = cases_service.get_case(db, reference)
        conversation.staff_reply(
            db,
            case,
            body="已为您查询退款进度",
            actor=audit.Actor(name=f"staff:{staff.username}", role=staff.role),
            settings=get_settings(),
        )
        db.commit()
        assert sorted(db.scalars(select(DeferredWork.kind))) == [
            cases_service.OPENED,
            cases_service.REINDEX,
        ]
    assert deferred.run_until_empty(sessions) == 2
    with sessions() as db:
        [contact] = db.scalars(select(QualityContact))
        assert contact.arrived_at is not None and contact.first_reply_at is not None
        assert _found(db, "退款进度") == [reference]
        loaded = _rollups(db)
        rebuild.rebuild_all(db)
        assert _rollups(db) == loaded


_MET: list[str] = []
_AT_THE_MEETING = threading.Event()
_MEETING = threading.Barrier(2, timeout=30)


@deferred.handler("test.meet")
def _meet(db: Session, payload: dict[str, Any]) -> None:
    """The middle of a batch: the first time each processor comes here, it waits for the
    other, so both have done their batch's first row and neither its last."""
    first = payload["who"] not in _MET
    _MET.append(payload["who"])
    if first:
        _AT_THE_MEETING.set()
        _MEETING.wait()


@pytest.mark.skipif(BACKEND != "postgres", reason="SQLite lets one transaction write at a time")
def test_two_processors_marking_repeats_of_the_same_customers_in_opposite_orders(
    isolated_database: Engine, outbox: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processors' batches each open a contact for customer C and one for D, in
    opposite orders. Each new contact marks the customer's earlier one as followed by a
    repeat, so the first processor held C's earlier contact and waited for D's, the second
    held D's and waited for C's, and PostgreSQL aborted one batch, which was done again row
    by row. Now a batch works for a second customer only if no other batch holds it, and
    otherwise ends there: no batch is undone, and every mark and figure is right."""
    sessions = sessionmaker(bind=isolated_database, expire_on_commit=False)
    with sessions() as db:
        c, d = make_customer(db), make_customer(db)
        db.commit()
        earlier = {_open_case(db, c.id, "充值没到账 第一次"), _open_case(db, d.id, "充值没到账")}
        db.commit()
    assert deferred.run_until_empty(sessions) == 2
    with sessions() as db:
        later = {
            name: cases_service.get_case(db, _open_case(db, customer.id, "又没到账"))
            for name, customer in (("c1", c), ("d1", d), ("d2", d), ("c2", c))
        }
        db.execute(delete(DeferredWork))  # queued again below in the order wanted
        for first, who, second in (("c1", "a", "d1"), ("d2", "b", "c2")):
            for name in (first, None, second):
                if name is None:
                    deferred.defer(db, "test.meet", {"who": who})
                    continue
                case = later[name]
                at = case.created_at.isoformat()
                deferred.defer(db, cases_service.QUALITY_OPENED, {"case_id": case.id, "at": at})
        db.commit()
    _MET.clear()
    _AT_THE_MEETING.clear()
    _MEETING.reset()
    # each batch holds its three rows however slow the machine (a batch ends after
    # BATCH_SECONDS, and a loaded one ended before its meeting)
    monkeypatch.setattr(deferred, "BATCH_SECONDS", 60.0)
    # a takes the first three rows (c1, its meeting, d1) and b, once a waits, the next three
    a = threading.Thread(target=deferred.run_due, args=(sessions,), kwargs={"limit": 3})
    b = threading.Thread(target=deferred.run_due, args=(sessions,), kwargs={"limit": 3})
    a.start()
    assert _AT_THE_MEETING.wait(30)
    b.start()
    a.join(60)
    b.join(60)
    assert not a.is_alive() and not b.is_alive()
    deferred.run_until_empty(sessions)
    assert sorted(_MET) == ["a", "b"]  # neither batch was undone and done again
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(DeferredWork)) == 0
        marks = {
            contact.case_reference: (contact.is_repeat, contact.followed_by_repeat)
            for contact in db.scalars(select(QualityContact))
        }
        for reference in earlier:
            assert marks.pop(reference) == (False, True)
        assert sorted(marks.values()) == [(True, False), (True, False), (True, True), (True, True)]
        loaded = _rollups(db)
        rebuild.rebuild_all(db)
        assert _rollups(db) == loaded


def _waiting(db: Session) -> list[DeferredWork]:
    return list(db.scalars(select(DeferredWork).order_by(DeferredWork.id)))


@pytest.mark.skipif(BACKEND != "postgres", reason="the customer's lock is PostgreSQL's")
def test_a_batch_ends_before_a_customer_another_batch_holds(
    isolated_database: Engine, outbox: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The path the test above reaches only when its second batch comes to its customer
    before the first commits: here the customer's lock is held for certain, from another
    connection, while one batch runs. The batch does the row before the held customer,
    ends before that row (``deferred.Later``) and commits; the rows from there on wait and
    are done by a later batch once the lock is free."""
    sessions = sessionmaker(bind=isolated_database, expire_on_commit=False)
    with sessions() as db:
        free, held = make_customer(db), make_customer(db)
        db.commit()
        first = _open_case(db, free.id, "充值没到账 第一次")
        blocked = _open_case(db, held.id, "充值没到账")
        after = _open_case(db, free.id, "充值没到账 第二次")
        db.commit()
        rows = [(row.id, row.payload["case_id"]) for row in _waiting(db)]
        assert len(rows) == 3
    monkeypatch.setattr(deferred, "BATCH_SECONDS", 60.0)  # the batch ends on the lock alone
    lock = {"space": events._PG_CUSTOMER_LOCK_SPACE, "customer": held.id}
    with isolated_database.connect() as other:
        other.execute(text("SELECT pg_advisory_lock(:space, :customer)"), lock)
        done: list[int] = []
        batch = threading.Thread(target=lambda: done.append(deferred.run_due(sessions)))
        batch.start()
        batch.join(30)
        waited = batch.is_alive()  # waited for the lock instead of ending before it
        other.execute(text("SELECT pg_advisory_unlock(:space, :customer)"), lock)
        other.commit()
        batch.join(30)
    assert not waited
    assert done == [1]
    with sessions() as db:
        left = _waiting(db)
        assert [(row.id, row.payload["case_id"]) for row in left] == rows[1:]
        assert all(row.attempts == 0 and row.last_error is None for row in left)  # not failed
        assert set(db.scalars(select(QualityContact.case_reference))) == {first}
        assert _found(db, "第二次") == []
    assert deferred.run_until_empty(sessions) == 2
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(DeferredWork)) == 0
        assert set(db.scalars(select(QualityContact.case_reference))) == {first, blocked, after}
        assert _found(db, "第二次") == [after]


def test_a_worker_does_the_deferred_work(tmp_path: Path) -> None:
    """``kefu worker`` (a process that imports no routes) does what a server left."""
    database = tmp_path / "kefu.db"
    engine = make_engine(f"sqlite:///{database}")
    migrate.upgrade(engine)
    env = kefu_env(f"sqlite:///{database}", tmp_path, KEFU_DEFERRED_WORK="outbox")
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    with sessions() as db:
        customer = make_customer(db)
        db.commit()
    # written as the server would, under the outbox setting of the worker's environment
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KEFU_DEFERRED_WORK", "outbox")
        get_settings.cache_clear()
        with sessions() as db:
            reference = _open_case(db, customer.id, "提现 到账 延迟")
            db.commit()
    get_settings.cache_clear()
    worker = start(["worker"], env, tmp_path / "worker.log")
    try:

        def done() -> bool:
            with sessions() as db:
                return db.scalar(select(func.count()).select_from(DeferredWork)) == 0

        wait_for(done, seconds=120, what="the worker's deferred work")
    finally:
        stop(worker)
    with sessions() as db:
        assert _found(db, "提现") == [reference]
        assert _contacts(db) == 1
    engine.dispose()


def test_deferred_work_runs_in_a_process_that_imported_nothing_else(tmp_path: Path) -> None:
    """A processor may start before anything else of the app is imported (a worker's
    thread starts before its job queue is built): the handlers still find every table."""
    database = tmp_path / "kefu.db"
    engine = make_engine(f"sqlite:///{database}")
    migrate.upgrade(engine)
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KEFU_DEFERRED_WORK", "outbox")
        get_settings.cache_clear()
        with sessions() as db:
            customer = make_customer(db)
            _open_case(db, customer.id, "转账 对方 没收到")
            db.commit()
    get_settings.cache_clear()
    env = kefu_env(f"sqlite:///{database}", tmp_path, KEFU_DEFERRED_WORK="outbox")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from kefu import deferred\n"
            "from kefu.db import get_sessionmaker\n"
            "print(deferred.run_until_empty(get_sessionmaker()))",
        ],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert done.stdout.decode().strip() == "1"
    engine.dispose()
