"""Satisfaction surveys on every channel: SMS digits, the keypad after a call, the chat
card and the e-mail page; reminders, opt-out, and bad answers that count nothing twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select, update
from sqlalchemy.orm import Session, sessionmaker
from tests.factories import customer_token, make_customer, make_staff
from tests.integration.quality.helpers import (
    MINUTE,
    T0,
    contact_of,
    resolved_call,
    resolved_case,
    staff_actor,
    survey_of_case,
)

from kefu import audit
from kefu.cases import conversation as case_conversation
from kefu.channels import outbox
from kefu.channels.senders import Senders, build_senders
from kefu.chat import service as chat_service
from kefu.config import Settings
from kefu.db import make_engine, utcnow
from kefu.quality import demo as quality_demo
from kefu.quality import events, survey_config, surveys
from kefu.quality.models import QualityContact, QualitySurvey, QualityTask, SurveyOptOut

HOUR = timedelta(hours=1)


@pytest.fixture
def senders(settings: Settings) -> Senders:
    return build_senders(settings)


def _sms_to(db: Session, phone: str) -> list[str]:
    return [m.body for m in outbox.latest(db, limit=50, to=phone) if m.purpose == "survey"]


def test_sms_survey_after_a_resolved_case_is_tied_to_case_and_agent(
    db: Session, settings: Settings, senders: Senders
) -> None:
    customer, agent = make_customer(db), make_staff(db)
    assert customer.phone is not None
    case = resolved_case(db, settings, customer=customer, agent=agent, channel="sms")
    survey = survey_of_case(db, case)
    assert survey.status == "scheduled" and survey.channel == "sms"
    assert survey.staff_id == agent.id and survey.case_id == case.id
    # nothing goes out before the delay
    assert surveys.send_due(db, senders=senders, settings=settings, now=T0 + 20 * MINUTE).sent == []
    report = surveys.send_due(db, senders=senders, settings=settings, now=T0 + 41 * MINUTE)
    assert report.sent == [survey.id]
    (text,) = _sms_to(db, customer.phone)
    assert case.reference in text and "1-5" in text

    reply = surveys.answer_sms(db, customer.phone, "４", senders=senders, now=T0 + HOUR)
    assert reply.outcome == "answered" and reply.expects == "solved"
    reply = surveys.answer_sms(db, customer.phone, "是", senders=senders, now=T0 + HOUR)
    assert reply.outcome == "done"
    assert survey.score == 4 and survey.solved is True and survey.status == "answered"
    contact = contact_of(db, survey)
    assert contact.survey_score == 4 and contact.survey_solved is True
    # a second score later is refused politely and changes nothing
    again = surveys.answer_sms(db, customer.phone, "1", senders=senders, now=T0 + 2 * HOUR)
    assert again.outcome == "already"
    assert survey.score == 4 and contact.survey_score == 4
    assert db.scalar(select(QualityTask).where(QualityTask.survey_id == survey.id)) is None
    assert len(_sms_to(db, customer.phone)) == 4  # question, two follow-ups, "already"


def test_a_low_sms_score_asks_why_and_opens_a_follow_up(
    db: Session, settings: Settings, senders: Senders
) -> None:
    customer, agent = make_customer(db), make_staff(db)
    assert customer.phone is not None
    case = resolved_case(db, settings, customer=customer, agent=agent)
    surveys.send_due(db, senders=senders, settings=settings, now=T0 + HOUR)
    survey = survey_of_case(db, case)
    assert (
        surveys.answer_sms(db, customer.phone, "1", senders=senders, now=T0 + HOUR).expects
        == "solved"
    )
    assert (
        surveys.answer_sms(db, customer.phone, "2", senders=senders, now=T0 + HOUR).expects
        == "reasons"
    )
    done = surveys.answer_sms(db, customer.phone, "1 3", senders=senders, now=T0 + HOUR)
    assert done.outcome == "done"
    assert survey.reasons == ["long_wait", "attitude"] and survey.solved is False
    task = db.scalar(select(QualityTask).where(QualityTask.survey_id == survey.id))
    assert task is not None and task.kind == "low_score" and task.staff_id == agent.id
    assert task.due_at == T0 + HOUR + timedelta(hours=24)


def test_junk_replies_get_the_question_again_then_silence(
    db: Session, settings: Settings, senders: Senders
) -> None:
    customer, agent = make_customer(db), make_staff(db)
    assert customer.phone is not None
    case = resolved_case(db, settings, customer=customer, agent=agent)
    surveys.send_due(db, senders=senders, settings=settings, now=T0 + HOUR)
    first = surveys.answer_sms(db, customer.phone, "9", senders=senders, now=T0 + HOUR)
    second = surveys.answer_sms(db, customer.phone, "好", senders=senders, now=T0 + HOUR)
    third = surveys.answer_sms(db, customer.phone, "12", senders=senders, now=T0 + HOUR)
    assert first.outcome == second.outcome == "junk" and first.expects == "score"
    assert first.text is not None and "1-5" in first.text
    assert third.outcome == "ignored" and third.text is None
    survey = survey_of_case(db, case)
    assert survey.score is None and contact_of(db, survey).survey_score is None
    # a good answer still counts, and resets the count of junk
    assert (
        surveys.answer_sms(db, customer.phone, "5", senders=senders, now=T0 + HOUR).outcome
        == "answered"
    )
    assert survey.score == 5 and survey.junk_replies == 0


def test_texts_from_another_phone_touch_nobody_elses_survey(
    db: Session, settings: Settings, senders: Senders
) -> None:
    owner, stranger, agent = make_customer(db), make_customer(db), make_staff(db)
    assert stranger.phone is not None
    case = resolved_case(db, settings, customer=owner, agent=agent)
    surveys.send_due(db, senders=senders, settings=settings, now=T0 + HOUR)
    assert (
        surveys.answer_sms(db, stranger.phone, "1", senders=senders, now=T0 + HOUR).outcome
        == "ignored"
    )
    assert (
        surveys.answer_sms(db, "+8613000000000", "1", senders=senders, now=T0 + HOUR).outcome
        == "ignored"
    )
    assert (
        surveys.answer_sms(db, "not a phone", "1", senders=senders, now=T0 + HOUR).outcome
        == "ignored"
    )
    assert survey_of_case(db, case).score is None


def test_one_reminder_then_the_survey_closes(
    db: Session, settings: Settings, senders: Senders
) -> None:
    customer, agent = make_customer(db), make_staff(db)
    assert customer.phone is not None
    case = resolved_case(db, settings, customer=customer, agent=agent)
    surveys.send_due(db, senders=senders, settings=settings, now=T0 + HOUR)
    survey = survey_of_case(db, case)
    day = timedelta(hours=24)
    assert surveys.send_due(db, senders=senders, settings=settings, now=T0 + day).reminded == []
    later = T0 + HOUR + day + MINUTE
    assert surveys.send_due(db, senders=senders, settings=settings, now=later).reminded == [
        survey.id
    ]
    assert surveys.send_due(db, senders=senders, settings=settings, now=later + HOUR).reminded == []
    assert len(_sms_to(db, customer.phone)) == 2
    closed_at = T0 + HOUR + timedelta(hours=72)
    report = surveys.send_due(db, senders=senders, settings=settings, now=closed_at)
    assert report.expired == [survey.id] and survey.status == "expired"
    late = surveys.answer_sms(db, customer.phone, "5", senders=senders, now=closed_at + HOUR)
    assert late.outcome == "closed" and survey.score is None
    with pytest.raises(surveys.SurveyClosed):
        surveys.answer(db, survey.token, surveys.Answers(score=5), via="chat", now=closed_at)


def test_opting_out_by_sms_is_honoured_everywhere(
    db: Session, settings: Settings, senders: Senders
) -> None:
    customer, agent = make_customer(db), make_staff(db)
    assert customer.phone is not None
    first = resolved_case(db, settings, customer=customer, agent=agent)
    surveys.send_due(db, senders=senders, settings=settings, now=T0 + HOUR)
    assert (
        surveys.answer_sms(db, customer.phone, "TD", senders=senders, now=T0 + HOUR).outcome
        == "opted_out"
    )
    assert db.get(SurveyOptOut, customer.id) is not None
    assert survey_of_case(db, first).score is None
    later = T0 + timedelta(days=2)
    second = resolved_case(db, settings, customer=customer, agent=agent, now=later)
    assert (
        db.scalar(select(surveys.QualitySurvey).where(surveys.QualitySurvey.case_id == second.id))
        is None
    )
    resolved_call(db, customer=customer, agent=agent, call_sid="CA-optout", now=later)
    assert surveys.offer_for_call(db, call_sid="CA-optout", now=later + HOUR) is None


def test_keypad_survey_after_a_call(db: Session, settings: Settings) -> None:
    customer, agent = make_customer(db), make_staff(db)
    resolved_call(db, customer=customer, agent=agent, call_sid="CA-keys")
    first = surveys.offer_for_call(db, call_sid="CA-keys", now=T0 + 6 * MINUTE)
    assert (
        first is not None
        and first.expects == "score"
        and first.key == "quality.survey.keypad_score"
    )
    assert surveys.answer_by_keypad(db, call_sid="CA-keys", digit="7").outcome == "junk"
    assert surveys.answer_by_keypad(db, call_sid="CA-keys", digit="2").expects == "solved"
    assert surveys.answer_by_keypad(db, call_sid="CA-keys", digit="1").expects == "reasons"
    done = surveys.answer_by_keypad(db, call_sid="CA-keys", digit="5")
    assert done.outcome == "done" and done.key == "quality.survey.thanks"
    again = surveys.answer_by_keypad(db, call_sid="CA-keys", digit="5")
    assert again.outcome == "already"
    survey = db.scalar(
        select(surveys.QualitySurvey).where(surveys.QualitySurvey.call_sid == "CA-keys")
    )
    assert survey is not None
    assert (survey.score, survey.solved, survey.reasons) == (2, True, ["process"])
    assert survey.staff_id == agent.id and survey.answered_via == "keypad"
    assert surveys.offer_for_call(db, call_sid="CA-keys") is None  # answered: not asked again
    assert surveys.offer_for_call(db, call_sid="CA-unknown") is None
    with pytest.raises(surveys.SurveyNotFound):
        surveys.answer_by_keypad(db, call_sid="CA-unknown", digit="1")


def test_a_call_without_the_keypad_survey_is_asked_by_sms(
    db: Session, settings: Settings, senders: Senders
) -> None:
    customer, agent = make_customer(db), make_staff(db)
    assert customer.phone is not None
    resolved_call(db, customer=customer, agent=agent, call_sid="CA-hungup")
    report = surveys.send_due(db, senders=senders, settings=settings, now=T0 + HOUR)
    assert len(report.sent) == 1
    assert len(_sms_to(db, customer.phone)) == 1
    assert (
        surveys.answer_sms(db, customer.phone, "5", senders=senders, now=T0 + HOUR).outcome
        == "answered"
    )


def test_a_chat_card_not_yet_due_says_when_to_ask(db: Session, client: TestClient) -> None:
    customer, agent = make_customer(db), make_staff(db)
    conversation = chat_service.start(db, channel="web", language="en", customer_id=customer.id)
    owner = {"X-Kefu-Conversation-Key": chat_service.issue_owner_key(conversation)}
    now = utcnow()
    for kind, staff_id in (("contact_arrived", None), ("answered_by_agent", agent.id)):
        events.record(
            db, kind, channel="web", conversation_id=conversation.id, staff_id=staff_id, at=now
        )
    events.record(
        db,
        "resolved",
        channel="web",
        conversation_id=conversation.id,
        customer_id=customer.id,
        staff_id=agent.id,
        at=now,
    )
    db.commit()
    path = f"/api/v1/surveys/conversation/{conversation.public_id}"
    waiting = client.get(path, headers=owner)
    elapsed = (utcnow() - now).total_seconds()  # a loaded machine can take seconds to get here
    assert waiting.status_code == 200, waiting.text
    body = waiting.json()
    assert body["status"] == "scheduled" and "token" not in body
    delay = survey_config.load(db).chat_delay_minutes * 60
    assert delay - elapsed - 1 <= body["due_in_seconds"] <= delay
    assert surveys.for_conversation(db, conversation.id) is None  # planned, not offered yet
    db.execute(
        update(QualitySurvey)
        .where(QualitySurvey.conversation_id == conversation.id)
        .values(due_at=now)
    )
    db.commit()
    offered = client.get(path + "?lang=en", headers=owner)
    assert offered.status_code == 200 and offered.json()["status"] == "sent"
    assert offered.json()["token"]


def test_chat_card_through_the_api(
    db: Session, settings: Settings, senders: Senders, client: TestClient
) -> None:
    customer, stranger, agent = make_customer(db), make_customer(db), make_staff(db)
    base = utcnow() - HOUR  # the API answers at the real time
    conversation = chat_service.start(db, channel="web", language="zh-CN", customer_id=customer.id)
    owner = {"X-Kefu-Conversation-Key": chat_service.issue_owner_key(conversation)}
    db.commit()
    card_path = f"/api/v1/surveys/conversation/{conversation.public_id}"
    assert client.get(card_path, headers=owner).status_code == 404
    for kind, minute, staff_id in (
        ("contact_arrived", 0, None),
        ("bot_answered", 0, None),
        ("handed_over", 1, None),
        ("queued", 1, None),
        ("answered_by_agent", 2, agent.id),
        ("resolved", 8, agent.id),
    ):
        events.record(
            db,
            kind,
            channel="web",
            conversation_id=conversation.id,
            customer_id=customer.id,
            staff_id=staff_id,
            at=base + minute * MINUTE,
        )
    # due since long ago, and the periodic send has not run: the widget's asking offers it,
    # to the conversation's owner only (a stranger with its id would get the survey token)
    db.commit()
    for stranger_headers in (
        {},
        {"X-Kefu-Conversation-Key": "not-the-key"},
        {"Authorization": f"Bearer {customer_token(db, stranger)}"},
    ):
        db.commit()
        refused = client.get(card_path + "?lang=en", headers=stranger_headers)
        assert refused.status_code == 404 and "token" not in refused.text
    assert surveys.for_conversation(db, conversation.id) is None  # nothing offered to them
    card = client.get(card_path + "?lang=en", headers=owner)
    assert card.status_code == 200, card.text
    token = card.json()["token"]
    assert card.json()["questions"]["solved"]["label"] == "Was your problem solved?"
    path = f"/api/v1/surveys/{token}"
    assert client.post(path, json={"score": 7}).status_code == 422
    bad = client.post(path, json={"score": 5, "reasons": ["long_wait"]})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "reasons"
    theirs = client.post(
        path, json={"score": 1}, headers={"Authorization": f"Bearer {customer_token(db, stranger)}"}
    )
    assert theirs.status_code == 404
    ok = client.post(
        path,
        json={
            "score": 2,
            "solved": False,
            "reasons": ["not_solved"],
            "comment": "卡号 6222021234567890128 退款没到",
        },
        headers={"Authorization": f"Bearer {customer_token(db, customer)}"},
    )
    assert ok.status_code == 200, ok.text
    twice = client.post(path, json={"score": 5})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "survey_answered"
    survey = surveys.by_token(db, token)
    assert survey.score == 2 and survey.comment is not None
    assert "6222021234567890128" not in survey.comment
    assert contact_of(db, survey).survey_score == 2


def test_email_link_page(
    db: Session, settings: Settings, senders: Senders, client: TestClient
) -> None:
    customer, agent = make_customer(db, language="en"), make_staff(db)
    assert customer.email is not None
    base = utcnow() - 3 * HOUR  # the page answers at the real time
    case = resolved_case(db, settings, customer=customer, agent=agent, channel="email", now=base)
    survey = survey_of_case(db, case)
    assert survey.channel == "email"
    surveys.send_due(db, senders=senders, settings=settings, now=base + 2 * HOUR)
    (mail,) = [m for m in outbox.latest(db, limit=20, to=customer.email) if m.purpose == "survey"]
    assert f"/help/survey/{survey.token}" in mail.body
    page = client.get(f"/help/survey/{survey.token}")
    assert page.status_code == 200 and "How satisfied are you" in page.text
    assert case.reference in page.text
    posted = client.post(
        f"/help/survey/{survey.token}",
        data={"score": "5", "solved": "yes", "reasons": "long_wait", "comment": "Quick, thanks"},
    )
    assert posted.status_code == 200 and "Thank you" in posted.text
    assert survey.score == 5 and survey.reasons == []  # reasons count only for a low score
    again = client.post(f"/help/survey/{survey.token}", data={"score": "1"})
    assert again.status_code == 409 and "already answered" in again.text
    assert client.get("/help/survey/no-such-token-at-all").status_code == 404
    opt = client.post(f"/help/survey/{survey.token}/opt-out")
    assert opt.status_code == 200 and db.get(SurveyOptOut, customer.id) is not None


def test_a_reopened_case_is_not_asked_about_until_resolved_again(
    db: Session, settings: Settings, senders: Senders
) -> None:
    customer, agent = make_customer(db), make_staff(db)
    case = resolved_case(db, settings, customer=customer, agent=agent)
    case_conversation.customer_message(
        db, case, body="还是没到", channel="sms", settings=settings, now=T0 + 15 * MINUTE
    )
    survey = survey_of_case(db, case)
    assert survey.status == "cancelled"
    assert surveys.send_due(db, senders=senders, settings=settings, now=T0 + 2 * HOUR).sent == []
    case_conversation.resolve(
        db, case, summary="已处理", actor=staff_actor(agent), settings=settings, now=T0 + 3 * HOUR
    )
    assert survey.status == "scheduled" and survey.due_at == T0 + 3 * HOUR + 30 * MINUTE


def test_survey_settings_change_the_questions(
    db: Session, settings: Settings, senders: Senders
) -> None:
    admin = audit.Actor(name="staff:admin", role="admin")
    with pytest.raises(Exception) as raised:
        survey_config.save(db, {"reasons": ["weather"]}, actor=admin)
    assert raised.value.params["field"] == "reasons"  # type: ignore[attr-defined]
    survey_config.save(db, {"ask_solved": False, "low_score_max": 3}, actor=admin)
    customer, agent = make_customer(db), make_staff(db)
    assert customer.phone is not None
    resolved_case(db, settings, customer=customer, agent=agent)
    surveys.send_due(db, senders=senders, settings=settings, now=T0 + HOUR)
    # no "was it solved?" step; a 3 is low now, so the reasons come next
    assert (
        surveys.answer_sms(db, customer.phone, "3", senders=senders, now=T0 + HOUR).expects
        == "reasons"
    )


def test_the_survey_settings_are_read_once_a_transaction_saved_or_not(
    isolated_database: Engine,
) -> None:
    """Every survey step asks the settings: a transaction reads them once, whether a
    manager ever saved them or not, sees its own save at once and another process's from
    its next transaction, and forgets a save its savepoint rolled back."""
    admin = audit.Actor(name="staff:admin", role="admin")
    reads: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "quality_setting" in statement and statement.lstrip().startswith("SELECT"):
            reads.append(statement)

    sessions = sessionmaker(bind=isolated_database, expire_on_commit=False)
    elsewhere = make_engine(isolated_database.url.render_as_string(hide_password=False))
    event.listen(isolated_database, "before_cursor_execute", seen)
    try:
        with sessions() as db, Session(elsewhere) as other:
            assert survey_config.load(db).low_score_max == 2  # nobody saved: the defaults
            assert survey_config.load(db).low_score_max == 2
            assert len(reads) == 1
            db.commit()
            survey_config.save(other, {"low_score_max": 3}, actor=admin)
            other.commit()  # another process, as far as db can tell
            reads.clear()
            assert survey_config.load(db).low_score_max == 3
            assert survey_config.load(db).low_score_max == 3
            assert len(reads) == 1
            savepoint = db.begin_nested()
            survey_config.save(db, {"low_score_max": 4}, actor=admin)
            assert survey_config.load(db).low_score_max == 4
            savepoint.rollback()
            assert survey_config.load(db).low_score_max == 3
            survey_config.save(db, {"ask_solved": False}, actor=admin)
            reads.clear()
            loaded = survey_config.load(db)
            assert not loaded.ask_solved and loaded.low_score_max == 3 and reads == []
            db.commit()
            assert survey_config.load(other) == loaded
    finally:
        event.remove(isolated_database, "before_cursor_execute", seen)
        elsewhere.dispose()


def test_the_demo_history_surveys_as_live_traffic_would_have(
    db: Session, settings: Settings, senders: Senders
) -> None:
    """Every contact the history resolved was asked (a keypad survey as the call ended, a
    chat card when due), some answered; none planned only to be cancelled, and nothing of
    the past is sent late once the history is loaded."""
    for role in ("agent", "agent", "specialist"):
        make_staff(db, role)
    for _ in range(5):
        make_customer(db)
    now = T0 + 20 * 24 * HOUR
    quality_demo.seed_history(db, settings=settings, now=now, days=5, per_day=20)
    found = list(db.scalars(select(QualitySurvey)))
    by_status: dict[str, int] = {}
    for survey in found:
        by_status[survey.status] = by_status.get(survey.status, 0) + 1
    assert set(by_status) == {"answered", "expired", "sent"}, by_status
    contacts = {c.id: c for c in db.scalars(select(QualityContact))}
    assert len(found) == sum(1 for c in contacts.values() if c.resolved_at is not None)
    for survey in found:
        contact = contacts[survey.contact_id]
        assert contact.survey_sent and survey.sent_at is not None
        assert contact.survey_score == survey.score  # the figures and the survey agree
        assert survey.channel == ("keypad" if contact.channel == "phone" else "chat")
        if survey.status == "expired":
            assert survey.expires_at is not None and survey.expires_at <= now
        if survey.status != "answered" and survey.sent_at <= now - 24 * HOUR:
            assert survey.reminded_at is not None  # made when it fell due, in the past
    low = [s.id for s in found if s.score is not None and s.score <= 2]
    follow_ups = list(db.scalars(select(QualityTask)))
    assert sorted(t.survey_id for t in follow_ups) == sorted(low)
    for task in follow_ups:  # called back in the past, or still to be
        assert task.done_at <= now if task.status == "done" else task.created_at > now - 30 * HOUR
    assert any(t.status == "done" for t in follow_ups)
    swept = surveys.send_due(db, senders=senders, settings=settings, now=now)
    assert (swept.sent, swept.reminded, swept.expired) == ([], [], [])
