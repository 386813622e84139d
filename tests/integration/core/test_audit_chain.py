import threading
import time
from itertools import pairwise

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from tests.conftest import BACKEND

from kefu import audit


def _append(db: Session, n: int) -> None:
    for i in range(n):
        audit.record(
            db,
            actor=audit.Actor("staff:agent1", "agent"),
            action="wallet.freeze",
            case_reference=f"KF-TEST-{i}",
            before={"status": "active"},
            after={"status": "frozen", "reason": "被盗 stolen"},
        )


def test_chain_links_each_row_to_the_previous(db: Session) -> None:
    _append(db, 5)
    rows = audit.list_events(db, limit=5)[::-1]
    for previous, current in pairwise(rows):
        assert current.prev_hash == previous.hash
    assert audit.verify_chain(db).ok


def test_updates_and_deletes_are_refused_by_the_database(db: Session) -> None:
    _append(db, 1)
    db.commit()  # the row is written when its transaction commits
    with pytest.raises(DBAPIError), db.begin_nested():
        db.execute(text("UPDATE audit_event SET action = 'nothing'"))
    with pytest.raises(DBAPIError), db.begin_nested():
        db.execute(text("DELETE FROM audit_event"))


def _drop_guards(connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("DROP TRIGGER audit_event_append_only ON audit_event"))
    else:
        connection.execute(text("DROP TRIGGER audit_event_no_update"))
        connection.execute(text("DROP TRIGGER audit_event_no_delete"))


def test_tampering_is_detected(isolated_database: Engine) -> None:
    with Session(isolated_database) as db:
        _append(db, 6)
        db.commit()
        assert audit.verify_chain(db).ok
        _drop_guards(db.connection())
        third = audit.list_events(db, limit=6)[::-1][2]
        db.execute(
            text("UPDATE audit_event SET after = :a WHERE id = :id"),
            {"a": '{"status": "active"}', "id": third.id},
        )
        db.commit()
        report = audit.verify_chain(db)
        assert not report.ok
        assert report.first_break_id == third.id
        assert "content" in (report.reason or "")


def test_removed_row_is_detected(isolated_database: Engine) -> None:
    with Session(isolated_database) as db:
        _append(db, 4)
        db.commit()
        _drop_guards(db.connection())
        second = audit.list_events(db, limit=4)[::-1][1]
        db.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": second.id})
        db.commit()
        report = audit.verify_chain(db)
        assert not report.ok
        assert "link" in (report.reason or "")


def test_request_id_is_recorded(client, db: Session) -> None:
    from tests.factories import make_staff, staff_token

    make_staff(db)
    token = staff_token(client, db, "admin")
    response = client.post(
        "/api/v1/staff",
        json={"username": "traced", "password": "a-long-password", "role": "agent"},
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-abc-123"},
    )
    assert response.status_code == 201
    assert response.headers["X-Request-ID"] == "req-abc-123"
    event = audit.list_events(db, action="staff.create", limit=1)[0]
    assert event.request_id == "req-abc-123"


def _chain(db: Session) -> list[audit.AuditEvent]:
    return list(db.scalars(select(audit.AuditEvent).order_by(audit.AuditEvent.id)))


@pytest.mark.skipif(BACKEND != "postgres", reason="SQLite lets one transaction write at a time")
def test_an_open_transaction_does_not_hold_back_another_ones_audit(
    isolated_database: Engine,
) -> None:
    """The chain is locked from linking to commit only: a transaction that recorded a row
    and stays open does not make another one wait to append and commit."""
    with Session(isolated_database) as first, Session(isolated_database) as second:
        _append(first, 2)
        first.flush()  # its other writes are done; it only has not committed yet
        # waiting for the first transaction's lock would fail after a second, not hang
        second.execute(text("SET lock_timeout = '1s'"))
        _append(second, 3)
        second.commit()
        first.commit()
        rows = _chain(first)
    assert [row.actor for row in rows] == ["staff:agent1"] * 5
    assert [row.case_reference for row in rows] == [f"KF-TEST-{i}" for i in (0, 1, 2, 0, 1)]
    with Session(isolated_database) as db:
        assert audit.verify_chain(db).ok


@pytest.mark.skipif(BACKEND != "postgres", reason="SQLite lets one transaction write at a time")
def test_a_transaction_that_waited_for_the_chain_links_after_the_rows_it_waited_for(
    isolated_database: Engine,
) -> None:
    """The lock and the last hash are asked in one round trip, but the last hash is read
    after the lock is granted: a statement that read it in the same snapshot as it waited
    for the lock would link after the row before the one it waited for, and fork."""
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with Session(isolated_database) as db:
                _append(db, 1)
                db.commit()
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)

    waiting = text(
        "SELECT count(*) FROM pg_locks JOIN pg_database ON pg_database.oid = pg_locks.database"
        " WHERE datname = current_database() AND locktype = 'advisory' AND NOT granted"
    )
    with Session(isolated_database) as db:
        _append(db, 1)
        db.commit()
    with Session(isolated_database) as first, Session(isolated_database) as watcher:
        _append(first, 2)
        audit.link_pending(first)  # holds the chain until it commits
        thread = threading.Thread(target=second)
        thread.start()
        deadline = time.monotonic() + 30
        while not watcher.scalar(waiting):  # the second is waiting for the chain
            watcher.rollback()
            assert time.monotonic() < deadline, "the second transaction never waited"
            time.sleep(0.01)
        first.commit()
        thread.join(30)
    assert errors == []
    with Session(isolated_database) as db:
        report = audit.verify_chain(db)
        assert report.ok and report.rows == 4


def test_concurrent_appenders_never_fork_the_chain(isolated_database: Engine) -> None:
    errors: list[BaseException] = []

    def appender() -> None:
        try:
            for _ in range(5):
                with Session(isolated_database) as db:
                    _append(db, 3)
                    db.commit()
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=appender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Session(isolated_database) as db:
        report = audit.verify_chain(db)
    assert report.ok and report.rows == 60


def test_rolled_back_rows_leave_no_row_and_no_gap(isolated_database: Engine) -> None:
    with Session(isolated_database) as db:
        _append(db, 2)
        db.rollback()
        _append(db, 1)
        db.commit()
        kept = audit.record(db, actor=audit.Actor.system(), action="kept")
        with pytest.raises(RuntimeError), db.begin_nested():
            audit.record(db, actor=audit.Actor.system(), action="undone")
            raise RuntimeError
        with db.begin_nested():
            audit.record(db, actor=audit.Actor.system(), action="released")
        db.commit()
        rows = _chain(db)
        assert [row.action for row in rows] == ["wallet.freeze", "kept", "released"]
        assert kept.id == rows[1].id and kept.prev_hash == rows[0].hash
        assert audit.verify_chain(db).ok


def test_rows_read_back_in_a_savepoint_that_is_rolled_back_are_linked_again(
    isolated_database: Engine,
) -> None:
    with Session(isolated_database) as db:
        _append(db, 1)
        with pytest.raises(RuntimeError), db.begin_nested():
            audit.record(db, actor=audit.Actor.system(), action="undone")
            assert len(audit.list_events(db)) == 2  # inserted here to be read back
            raise RuntimeError
        audit.record(db, actor=audit.Actor.system(), action="after")
        db.commit()
        assert [row.action for row in _chain(db)] == ["wallet.freeze", "after"]
        assert audit.verify_chain(db).ok


def test_a_session_closed_without_commit_keeps_nothing_for_its_next_transaction(
    isolated_database: Engine,
) -> None:
    with Session(isolated_database) as db:
        _append(db, 2)
        db.close()
        audit.record(db, actor=audit.Actor.system(), action="next")
        db.commit()
        assert [row.action for row in _chain(db)] == ["next"]
