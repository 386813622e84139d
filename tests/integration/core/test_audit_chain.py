from itertools import pairwise

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

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
