"""Cases through the service: committed time, lifecycle, masking, reopen, links, search."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session
from tests.conftest import BACKEND
from tests.factories import make_customer
from tests.integration.cases.case_helpers import AGENT, T0, make_case
from tests.statements import statements_sent

from kefu import audit
from kefu.cases import conversation, policies, refs, service, timeline
from kefu.cases.categories import Category, Priority
from kefu.cases.errors import CaseFinished, CaseNotFound, UnknownValue
from kefu.cases.models import Case, CaseEvent, SlaPolicy
from kefu.cases.refs import ReferenceMistyped
from kefu.cases.transitions import IllegalMove, Mover, Status
from kefu.channels.models import OutboxMessage
from kefu.channels.senders import build_senders
from kefu.config import Settings
from kefu.identity.models import Customer

H = timedelta(hours=1)


def test_seeded_policies_equal_the_defaults(db: Session) -> None:
    rows = {(p.category, p.priority): p for p in db.scalars(select(SlaPolicy))}
    assert len(rows) == len(Category) * len(Priority)
    for (category, priority), targets in policies.DEFAULT_TARGETS.items():
        row = rows[(category.value, priority.value)]
        assert (row.first_response_minutes, row.resolution_minutes) == (
            targets.first_response_minutes,
            targets.resolution_minutes,
        )
        assert row.progress_every_hours == targets.progress_every_hours
    assert rows[("complaint", "low")].resolution_minutes == 15 * 24 * 60
    assert rows[("login_failed", "normal")].resolution_minutes == 120


def test_open_case_commits_a_time_and_says_so(db: Session, settings: Settings) -> None:
    case = make_case(db, settings)
    assert refs.canonical(case.reference) == case.reference
    assert case.status == "new" and case.tier == "tier1"
    assert case.resolution_due_at == T0 + timedelta(days=1)
    assert case.committed_at == case.resolution_due_at
    assert case.first_response_due_at == T0 + H
    sla_event = next(e for e in timeline.events(db, case) if e.kind == "sla")
    assert sla_event.visibility == "public"
    assert "2026-11-24 10:00" in (sla_event.body or "")  # Shanghai time told to the customer
    actions = [e.action for e in audit.list_events(db, case_reference=case.reference)]
    assert actions == ["case.create"]


def test_a_flush_writes_a_cases_new_events_in_one_insert_each_with_its_id(
    db: Session, settings: Settings
) -> None:
    """On SQLite too (opening a case adds three at once): the ORM pairs the ids the one
    INSERT returns with its events, in order."""
    case = make_case(db, settings)
    db.flush()
    with statements_sent(db.connection()) as sent:
        added = [
            timeline.add_event(db, case, kind=kind, actor=AGENT, now=T0, body=f"{kind} {n}")
            for n, kind in enumerate(("note", "message", "notification", "note"))
        ]
        db.flush()
    assert len([s for s in sent if s.startswith("INSERT INTO case_event")]) == 1
    ids = [e.id for e in added]
    assert ids == sorted(ids)
    db.expunge_all()  # read back from the database, not the session's objects
    stored = {e.id: e.body for e in timeline.events(db, case)}
    assert [stored[i] for i in ids] == ["note 0", "message 1", "notification 2", "note 3"]


def test_a_case_opened_and_acknowledged_is_inserted_as_told_with_no_update(
    db: Session, settings: Settings
) -> None:
    """The time the customer was told is in the case's INSERT; a customer with neither
    phone nor e-mail is told nothing and has no such time."""
    reachable, unreachable = make_customer(db), make_customer(db)
    unreachable.phone = unreachable.email = None
    db.flush()
    with statements_sent(db.connection()) as sent:
        told, untold = (
            service.open_case(
                db,
                new=service.NewCase(
                    customer_id=customer.id,
                    category="recharge_not_credited",
                    channel="voice",
                    subject="充值不到账",
                ),
                actor=AGENT,
                settings=settings,
                now=T0,
                senders=build_senders(settings),
            )
            for customer in (reachable, unreachable)
        )
        db.flush()
    assert not [s for s in sent if s.startswith('UPDATE "case"')]
    db.expunge_all()  # read back from the database, not the session's objects
    assert service.get_case(db, told.reference).last_customer_update_at == T0
    assert service.get_case(db, untold.reference).last_customer_update_at is None
    sent = [e for e in timeline.events(db, told) if e.kind == "notification"]
    assert [e.created_at for e in sent] == [T0]
    assert not [e for e in timeline.events(db, untold) if e.kind == "notification"]


def test_a_reference_already_taken_is_passed_over(
    db: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The INSERT under the unique index inserts nothing (as for a concurrent case's in
    the same instant): the next reference is used and the transaction goes on, with no
    question asked first and no savepoint."""
    taken = make_case(db, settings).reference
    fresh = refs.Reference(
        period=refs.parse(taken).period, number=(refs.parse(taken).number + 1) % refs.RANDOM_LIMIT
    )
    offered = iter([refs.parse(taken), fresh])
    monkeypatch.setattr(refs, "new_reference", lambda _opened_at: next(offered))
    with statements_sent(db.connection()) as sent:
        case = make_case(db, settings, description="second case")
    db.flush()
    assert case.reference == str(fresh)
    assert not [s for s in sent if s.startswith(("SAVEPOINT", 'SELECT "case"'))]
    assert [e.kind for e in timeline.events(db, case)] == ["message", "sla"]
    assert service.get_case(db, taken).id != case.id


def test_a_reference_a_concurrent_transaction_is_inserting_is_passed_over(
    isolated_database: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two cases offered the same reference at once: the second waits for the first's
    transaction (PostgreSQL, on the unique index; SQLite, for the write lock), then takes
    the next reference; both are stored, each under its own."""
    with Session(isolated_database) as db:
        first_customer, second_customer = make_customer(db).id, make_customer(db).id
        db.commit()
    same = refs.Reference(period="2611", number=12345)
    fresh = refs.Reference(period="2611", number=12346)
    offered = iter([same, same, fresh])
    monkeypatch.setattr(refs, "new_reference", lambda _opened_at: next(offered))
    settings = Settings(database_url=str(isolated_database.url))
    opened: list[str] = []
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with Session(isolated_database) as db:
                opened.append(make_case(db, settings, customer_id=second_customer).reference)
                db.commit()
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)

    with Session(isolated_database) as first:
        first_reference = make_case(first, settings, customer_id=first_customer).reference
        thread = threading.Thread(target=second)
        thread.start()
        if BACKEND == "postgres":  # the second waits for the first's row in the index
            waiting = text(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND pid IN"
                " (SELECT pid FROM pg_stat_activity WHERE datname = current_database())"
            )
            deadline = time.monotonic() + 30
            with Session(isolated_database) as watcher:
                while not watcher.scalar(waiting):
                    watcher.rollback()
                    assert time.monotonic() < deadline, "the second case never waited"
                    time.sleep(0.01)
        first.commit()
        thread.join(30)
    assert errors == []
    assert (first_reference, opened) == (str(same), [str(fresh)])
    with Session(isolated_database) as db:
        stored = db.execute(select(Case.reference, Case.customer_id).order_by(Case.id)).all()
    assert [tuple(row) for row in stored] == [
        (str(same), first_customer),
        (str(fresh), second_customer),
    ]


def test_no_free_reference_after_every_try_is_an_error(
    db: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = refs.parse(make_case(db, settings).reference)
    monkeypatch.setattr(refs, "new_reference", lambda _opened_at: taken)
    with pytest.raises(RuntimeError, match="no unused case reference"):
        make_case(db, settings)


def test_a_policy_an_admin_changed_holds_for_the_next_case(db: Session, settings: Settings) -> None:
    before = make_case(db, settings)
    policies.update_policy(
        db,
        category="recharge_not_credited",
        priority="normal",
        changes={"first_response_minutes": 30, "resolution_minutes": 600},
        actor=AGENT,
    )
    after = make_case(db, settings)
    assert (before.first_response_minutes, before.resolution_minutes) == (60, 24 * 60)
    assert (after.first_response_minutes, after.resolution_minutes) == (30, 600)
    assert after.resolution_due_at == T0 + timedelta(minutes=600)


def test_a_new_case_tells_its_customer_as_the_session_has_them(
    db: Session, settings: Settings
) -> None:
    """The customer's language, phone and e-mail are read as columns for a new case, but
    a customer the session holds, with a change not flushed yet, is taken as it stands."""
    held_id = make_customer(db, language="en").id
    unheld = make_customer(db, language="en")
    unheld_id, unheld_phone = unheld.id, unheld.phone
    db.expunge_all()  # neither is held now
    held = db.get(Customer, held_id)
    assert held is not None
    held.phone, held.language = "+8613900000002", "zh-CN"  # not flushed
    senders = build_senders(settings)
    told = [
        service.open_case(
            db,
            new=service.NewCase(
                customer_id=customer_id,
                category="recharge_not_credited",
                channel="voice",
                subject="充值不到账",
            ),
            actor=AGENT,
            settings=settings,
            now=T0,
            senders=senders,
        )
        for customer_id in (held_id, unheld_id)
    ]
    db.flush()
    assert [case.language for case in told] == ["zh-CN", "en"]
    sent = db.scalars(
        select(OutboxMessage.destination).order_by(OutboxMessage.id.desc()).limit(2)
    ).all()
    assert sent[::-1] == ["+8613900000002", unheld_phone]


def test_default_priority_comes_from_the_category(db: Session, settings: Settings) -> None:
    case = make_case(db, settings, category="account_stolen", priority=None)
    assert case.priority == "urgent"
    assert case.first_response_due_at == T0 + timedelta(minutes=5)


def test_unknown_category_is_refused_and_nothing_is_stored(db: Session, settings: Settings) -> None:
    with pytest.raises(UnknownValue):
        make_case(db, settings, category="lottery")
    assert service.list_cases(db, flt=service.CaseFilter()) == []


def test_secrets_in_messages_are_masked_before_storage(db: Session, settings: Settings) -> None:
    case = make_case(db, settings, description="卡号 4111 1111 1111 1111，验证码 482913")
    conversation.customer_message(
        db,
        case,
        body="密码是Abc12345，身份证11010519491231002X",
        channel="chat",
        settings=settings,
        now=T0,
    )
    service.add_note(db, case, body="客户说卡号4111-1111-1111-1111", actor=AGENT, now=T0)
    stored = " ".join(e.body or "" for e in db.scalars(select(CaseEvent)))
    for secret in ("4111 1111 1111", "4111-1111-1111", "482913", "Abc12345", "19491231"):
        assert secret not in stored


def test_lifecycle_with_pause_moves_the_deadline(db: Session, settings: Settings) -> None:
    case = make_case(db, settings)
    conversation.staff_reply(
        db,
        case,
        body="请提供付款截图",
        actor=AGENT,
        settings=settings,
        then=Status.PENDING_CUSTOMER,
        now=T0 + H,
    )
    assert case.status == "pending_customer" and case.first_responded_at == T0 + H
    assert case.resolution_due_at is None  # paused: not known until the clock runs again
    conversation.customer_message(
        db, case, body="截图已发", channel="web", settings=settings, now=T0 + 4 * H
    )
    assert case.status == "open"
    assert case.resolution_due_at == T0 + timedelta(days=1) + 3 * H
    assert case.committed_at == T0 + timedelta(days=1)  # what the customer was told stays
    conversation.resolve(db, case, summary="已到账", actor=AGENT, settings=settings, now=T0 + 5 * H)
    conversation.close(db, case, actor=AGENT, settings=settings, now=T0 + 6 * H)
    moves = [timeline.event_data(e) for e in timeline.events(db, case) if e.kind == "status"]
    assert [(m["from"], m["to"]) for m in moves] == [
        ("new", "pending_customer"),
        ("pending_customer", "open"),
        ("open", "resolved"),
        ("resolved", "closed"),
    ]


def test_illegal_moves_are_refused_without_change(db: Session, settings: Settings) -> None:
    case = make_case(db, settings)
    with pytest.raises(IllegalMove):
        conversation.close(db, case, actor=AGENT, settings=settings, now=T0)
    assert case.status == "new"
    conversation.resolve(db, case, summary="done", actor=AGENT, settings=settings, now=T0)
    conversation.close(db, case, actor=AGENT, settings=settings, now=T0)
    with pytest.raises(IllegalMove):
        service.move(
            db, case, target=Status.OPEN, mover=Mover.STAFF, actor=AGENT, settings=settings, now=T0
        )
    with pytest.raises(CaseFinished):
        conversation.staff_reply(db, case, body="hi", actor=AGENT, settings=settings, now=T0)


def test_customer_reply_reopens_within_the_window_else_opens_a_follow_up(
    db: Session, settings: Settings
) -> None:
    case = make_case(db, settings)
    conversation.resolve(db, case, summary="done", actor=AGENT, settings=settings, now=T0)
    conversation.close(db, case, actor=AGENT, settings=settings, now=T0)
    same = conversation.customer_message(
        db, case, body="还是没到账", channel="web", settings=settings, now=T0 + 24 * H
    )
    assert same is case and case.status == "open" and case.closed_at is None
    conversation.resolve(db, case, summary="done", actor=AGENT, settings=settings, now=T0 + 25 * H)
    conversation.close(db, case, actor=AGENT, settings=settings, now=T0 + 25 * H)
    later = T0 + 25 * H + timedelta(days=settings.case_reopen_days, hours=1)
    follow_up = conversation.customer_message(
        db, case, body="又出问题了", channel="email", settings=settings, now=later
    )
    assert follow_up is not case and follow_up.parent_id == case.id
    assert case.status == "closed"
    assert any(e.body == "又出问题了" for e in timeline.events(db, follow_up))


def test_get_case_tells_typos_from_unknown_references(db: Session, settings: Settings) -> None:
    case = make_case(db, settings)
    assert service.get_case(db, case.reference.lower().replace("-", " ")) is case
    with pytest.raises(ReferenceMistyped):
        service.get_case(db, case.reference[:-1] + ("0" if case.reference[-1] != "0" else "1"))
    other = str(
        refs.Reference(
            period="2611", number=(refs.parse(case.reference).number + 1) % refs.RANDOM_LIMIT
        )
    )
    with pytest.raises(CaseNotFound):
        service.get_case(db, other)
    with pytest.raises(CaseNotFound):
        service.get_customer_case(db, customer_id=make_customer(db).id, reference=case.reference)


def test_links_are_kept_once_and_found_back(db: Session, settings: Settings) -> None:
    case = make_case(db, settings)
    service.link(db, case, kind="topup", external_id="TU123", actor=AGENT, now=T0)
    service.link(db, case, kind="topup", external_id="TU123", actor=AGENT, now=T0)
    assert [(row.kind, row.external_id) for row in service.links(db, case)] == [("topup", "TU123")]
    assert service.cases_linked_to(db, kind="topup", external_id="TU123") == [case]
    with pytest.raises(UnknownValue):
        service.link(db, case, kind="loan", external_id="X", actor=AGENT, now=T0)


def test_list_filters_and_chinese_text_search(db: Session, settings: Settings) -> None:
    a = make_case(db, settings, description="银行卡充值五百元一直没有到账")
    b = make_case(db, settings, category="app_technical", description="应用打开就闪退")
    service.assign(db, b, owner_username=None, actor=AGENT)
    assert service.list_cases(db, flt=service.CaseFilter(category="app_technical")) == [b]
    assert service.list_cases(db, flt=service.CaseFilter(text="闪退")) == [b]
    assert service.list_cases(
        db, flt=service.CaseFilter(text="五百元", category="recharge_not_credited")
    ) == [a]
    assert (
        service.list_cases(db, flt=service.CaseFilter(text="五百元", category="app_technical"))
        == []
    )
    late = service.list_cases(db, flt=service.CaseFilter(breached=True), now=T0 + 2 * H)
    assert {c.id for c in late} == {a.id}  # 1 h first response missed; b has 4 h
    late = service.list_cases(db, flt=service.CaseFilter(breached=True), now=T0 + 5 * H)
    assert {c.id for c in late} == {a.id, b.id}
    assert service.list_cases(db, flt=service.CaseFilter(breached=True), now=T0) == []
