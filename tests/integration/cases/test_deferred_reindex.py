"""A case's text search entry, re-indexed by deferred work (``kefu.cases.deferred``), ends
with the case's newest text when several processors share one PostgreSQL database, and a
merged duplicate's stays gone."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from tests.conftest import BACKEND
from tests.factories import make_customer, make_staff

from kefu import audit, deferred
from kefu.cases import conversation, work
from kefu.cases import service as cases_service
from kefu.config import get_settings
from kefu.search.models import SearchDocument


@pytest.fixture
def outbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("KEFU_DEFERRED_WORK", "outbox")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("KEFU_DEFERRED_WORK")
    get_settings.cache_clear()


_PAUSED = threading.Event()
_GO_ON = threading.Event()


@deferred.handler("test.pause_batch")
def _pause(db: Session, payload: dict[str, Any]) -> None:
    """The middle of a batch: it has read its earlier rows' cases and not yet written."""
    _PAUSED.set()
    assert _GO_ON.wait(30)


def _reply(db: Session, reference: str, body: str) -> None:
    staff = make_staff(db)
    conversation.staff_reply(
        db,
        cases_service.get_case(db, reference),
        body=body,
        actor=audit.Actor(name=f"staff:{staff.username}", role=staff.role),
        settings=get_settings(),
    )


def _open(db: Session, customer_id: int, subject: str) -> str:
    return cases_service.open_case(
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
    ).reference


def _indexed(db: Session, reference: str) -> str:
    body = db.scalar(select(SearchDocument.body).where(SearchDocument.ref == reference))
    assert body is not None
    return body


@pytest.mark.skipif(BACKEND != "postgres", reason="SQLite lets one transaction write at a time")
def test_a_batch_that_read_a_case_before_another_processor_indexed_it_anew_leaves_the_new_text(
    isolated_database: Engine, outbox: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Processor A's batch reads the case after the first reply; the second reply is
    committed and processor B indexes it while A's batch still runs; A's batch then ends.
    A wrote the text it had read over B's, and nothing re-indexed the case until its next
    change: the second reply could not be found."""
    sessions = sessionmaker(bind=isolated_database, expire_on_commit=False)
    with sessions() as db:
        customer = make_customer(db)
        reference = _open(db, customer.id, "充值没到账")
        db.commit()
    assert deferred.run_until_empty(sessions) == 1
    with sessions() as db:
        _reply(db, reference, "第一次答复 正在核实")
        deferred.defer(db, "test.pause_batch", {})
        db.commit()
    _PAUSED.clear()
    _GO_ON.clear()
    monkeypatch.setattr(deferred, "BATCH_SECONDS", 60.0)  # A's batch holds both its rows
    a = threading.Thread(target=deferred.run_due, args=(sessions,))
    a.start()
    try:
        assert _PAUSED.wait(30)
        with sessions() as db:
            _reply(db, reference, "第二次答复 已经到账")
            db.commit()
        assert deferred.run_due(sessions) == 1  # B: the re-index A's batch has not locked
        with sessions() as db:
            assert "已经到账" in _indexed(db, reference)
    finally:
        _GO_ON.set()
        a.join(60)
    assert not a.is_alive()
    with sessions() as db:
        assert deferred.run_until_empty(sessions) == 0  # A's rows were done, not retried
        body = _indexed(db, reference)
        assert "正在核实" in body and "已经到账" in body


def test_a_reindex_left_before_a_merge_does_not_bring_the_duplicate_back(
    isolated_database: Engine, outbox: None
) -> None:
    """A reply on the duplicate left a re-index; the merge removed the duplicate's document
    before that ran. The re-index wrote it again, and a search found both cases."""
    sessions = sessionmaker(bind=isolated_database, expire_on_commit=False)
    with sessions() as db:
        customer = make_customer(db)
        kept = _open(db, customer.id, "充值没到账")
        duplicate = _open(db, customer.id, "充值又没到账")
        db.commit()
    assert deferred.run_until_empty(sessions) == 2
    with sessions() as db:
        _reply(db, duplicate, "正在核实 流水号")
        db.commit()
        staff = make_staff(db)
        work.merge(
            db,
            cases_service.get_case(db, duplicate),
            into=cases_service.get_case(db, kept),
            actor=audit.Actor(name=f"staff:{staff.username}", role=staff.role),
        )
        db.commit()
    assert deferred.run_until_empty(sessions) == 2
    with sessions() as db:
        assert db.scalars(select(SearchDocument.ref)).all() == [kept]
        assert "流水号" in _indexed(db, kept)
