"""Account number plus security questions: answers set by the customer after a fresh code
(never shown, logged or audited), a verification that asks some of them, counts wrong
rounds and locks, answers unknown accounts alike, and proves only enough to look and
freeze."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import customer_token
from tests.integration.identity.test_verification_api import verify
from tests.leaks import mentions, plain_text_columns_holding

from kefu.audit import AuditEvent
from kefu.config import Settings
from kefu.errors import PermissionDenied, TooManyRequests, VerificationLocked
from kefu.identity import questions
from kefu.identity import service as identity_service
from kefu.identity.models import Customer, Verification

PHONE = "+8613700000001"
ACCOUNT = "W123456789"
TYPED = "123456789"  # the account number on a keypad
ANSWERS = {"birth_date": "1990-03-05", "id_last6": "31002x", "own_number": "482916"}
KEYPAD = {"birth_date": "19900305", "id_last6": "31002*", "own_number": "482916"}
WRONG = {
    "birth_date": "19800101",
    "id_last6": "000000",
    "own_number": "000000",
    "mother_birthday": "0101",
}
SECRETS = ("19900305", "1990-03-05", "31002X", "31002x", "31002*", "482916")


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every logger at DEBUG, set before the database connection opens, so that
    SQLAlchemy's statements and their parameters are captured too."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")  # SQLAlchemy sets WARN
    return caplog


@pytest.fixture
def holder(db: Session) -> Customer:
    customer = identity_service.create_customer(
        db, wallet_account_id=ACCOUNT, name="张伟", phone=PHONE, email="zw@example.com"
    )
    questions.seed_answers(db, customer_id=customer.id, answers=ANSWERS)
    return customer


def start(
    db: Session, settings: Settings, account: str = TYPED, caller: str = "caller-1"
) -> questions.Challenge:
    return questions.start_verification(
        db, account=account, channel="voice", client_key=caller, settings=settings
    )


def reply(
    db: Session, settings: Settings, challenge: questions.Challenge, answers: dict[str, str]
) -> questions.Progress:
    """Answer every question of the round from ``answers``; the last progress."""
    progress = None
    for question in challenge.questions:
        progress = questions.answer(
            db,
            verification_public_id=challenge.verification.public_id,
            answer=answers[question],
            settings=settings,
        )
    assert progress is not None
    return progress


def test_right_answers_verify_lightly(db: Session, settings: Settings, holder: Customer) -> None:
    challenge = start(db, settings)
    assert len(challenge.questions) == settings.security_questions_asked == 2
    assert set(challenge.questions) <= set(ANSWERS)
    public_id = challenge.verification.public_id
    first = questions.answer(
        db,
        verification_public_id=public_id,
        answer=KEYPAD[challenge.questions[0]],
        settings=settings,
    )
    assert first.next_question == challenge.questions[1]
    assert first.verification.status == "pending"
    done = questions.answer(
        db,
        verification_public_id=public_id,
        answer=KEYPAD[challenge.questions[1]],
        settings=settings,
    )
    verification = done.verification
    assert done.next_question is None and verification.status == "verified"
    assert (verification.method, verification.customer_id) == ("security_questions", holder.id)
    assert verification.destination_masked == "****6789"
    assert verification.expires_at is not None

    assert questions.strength(verification) == questions.LIGHT
    questions.require_allowed(db, verification.id, "freeze")
    questions.require_allowed(db, verification.id, "read")
    for action in ("unfreeze", "unlock", "refund", "reverse_payment", "set_limits"):
        with pytest.raises(PermissionDenied):
            questions.require_allowed(db, verification.id, action)
    db.commit()  # audit rows are written when their transaction commits
    actions = list(
        db.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.customer_id == holder.id)
            .order_by(AuditEvent.id)
        )
    )
    assert actions == ["security_questions.set", "verification.started", "verification.verified"]


def test_wrong_rounds_count_and_lock_without_saying_which_answer(
    db: Session, settings: Settings, holder: Customer
) -> None:
    challenge = start(db, settings)
    right_then_wrong = {**KEYPAD, challenge.questions[1]: WRONG[challenge.questions[1]]}
    wrong_then_right = {**KEYPAD, challenge.questions[0]: WRONG[challenge.questions[0]]}
    for remaining, answers in ((2, right_then_wrong), (1, wrong_then_right)):
        with pytest.raises(questions.AnswersWrong) as wrong:
            reply(db, settings, challenge, answers)
        assert wrong.value.params == {"remaining": remaining}
    with pytest.raises(VerificationLocked):
        reply(db, settings, challenge, right_then_wrong)
    verification = challenge.verification
    assert (verification.status, verification.failed_attempts) == ("locked", 3)
    with pytest.raises(VerificationLocked):  # locked for good, even with the right answers
        reply(db, settings, challenge, KEYPAD)
    db.commit()  # audit rows are written when their transaction commits
    locked = db.scalar(select(AuditEvent).where(AuditEvent.action == "verification.locked"))
    assert locked is not None and locked.customer_id == holder.id
    # the lock holds this verification only: a new one can start
    assert start(db, settings).verification.status == "pending"


def test_an_unknown_account_is_asked_alike_and_never_verifies(
    db: Session, settings: Settings, holder: Customer
) -> None:
    unknown = start(db, settings, account="987654321")
    known = start(db, settings)
    assert len(unknown.questions) == len(known.questions)
    assert set(unknown.questions) <= set(questions.QUESTIONS)
    assert unknown.verification.customer_id is None
    assert unknown.verification.status == known.verification.status == "pending"
    holders_answers = {**WRONG, **KEYPAD}  # even the real holder's answers do not fit
    outcomes = []
    for challenge in (unknown, known):
        wrong = {**holders_answers, challenge.questions[-1]: WRONG[challenge.questions[-1]]}
        with pytest.raises(questions.AnswersWrong) as refused:
            reply(db, settings, challenge, wrong if challenge is known else holders_answers)
        outcomes.append(refused.value.params)
    assert outcomes[0] == outcomes[1] == {"remaining": 2}
    for _ in range(2):
        with pytest.raises((questions.AnswersWrong, VerificationLocked)):
            reply(db, settings, unknown, holders_answers)
    assert unknown.verification.status == "locked"


def test_a_holder_without_enough_answers_is_treated_like_a_stranger(
    db: Session, settings: Settings
) -> None:
    customer = identity_service.create_customer(
        db, wallet_account_id="W555000555", name="李娜", phone="+8613700000002"
    )
    questions.seed_answers(db, customer_id=customer.id, answers={"own_number": "482916"})
    challenge = start(db, settings, account="555000555")
    assert len(challenge.questions) == 2 and challenge.verification.customer_id == customer.id
    with pytest.raises(questions.AnswersWrong):
        reply(db, settings, challenge, {**WRONG, "own_number": "482916"})


def test_starts_are_limited_per_caller_and_per_account(
    db: Session, settings: Settings, holder: Customer
) -> None:
    limited = settings.model_copy(
        update={
            "security_questions_max_per_client_per_hour": 2,
            "security_questions_max_per_account_per_day": 3,
        }
    )
    for account in (TYPED, "987654321"):
        start(db, limited, account=account, caller=f"a:{account}")
        start(db, limited, account=account, caller=f"a:{account}")
        with pytest.raises(TooManyRequests):
            start(db, limited, account=account, caller=f"a:{account}")
        start(db, limited, account=account, caller=f"b:{account}")
        with pytest.raises(TooManyRequests):  # a new number does not buy more guesses
            start(db, limited, account=account, caller=f"c:{account}")


def test_setting_answers_needs_a_fresh_code_verification(
    client: TestClient, db: Session, settings: Settings, holder: Customer
) -> None:
    stale = client.put(
        "/api/v1/me/security-questions",
        json={"answers": {"own_number": "730519"}},
        headers={"Authorization": f"Bearer {customer_token(db, holder)}"},
    )
    assert stale.status_code == 403
    assert stale.json()["error"]["code"] == "fresh_verification_needed"

    headers = verify(client, db, PHONE)
    proof = db.scalar(
        select(Verification)
        .where(Verification.customer_id == holder.id, Verification.method == "phone")
        .order_by(Verification.id.desc())
    )
    assert proof is not None and proof.verified_at is not None
    proof.verified_at -= timedelta(minutes=11)
    db.flush()
    old = client.put(
        "/api/v1/me/security-questions",
        json={"answers": {"own_number": "730519"}},
        headers=headers,
    )
    assert old.status_code == 403

    # a verification by the questions themselves cannot change them
    by_questions = reply(db, settings, start(db, settings), KEYPAD).verification
    issued = identity_service.issue_token(
        db,
        kind="customer",
        ttl_seconds=600,
        customer_id=holder.id,
        verification_id=by_questions.id,
    )
    refused = client.put(
        "/api/v1/me/security-questions",
        json={"answers": {"own_number": "730519"}},
        headers={"Authorization": f"Bearer {issued.token}"},
    )
    assert refused.status_code == 403


def test_answers_set_by_api_are_never_shown_logged_or_stored_plainly(
    all_logs: pytest.LogCaptureFixture,
    client: TestClient,
    db: Session,
    settings: Settings,
    holder: Customer,
) -> None:
    headers = verify(client, db, PHONE)
    simple = client.put(
        "/api/v1/me/security-questions",
        json={"answers": {"own_number": "123456"}},
        headers=headers,
    )
    assert simple.status_code == 400 and simple.json()["error"]["field"] == "own_number"
    unknown = client.put(
        "/api/v1/me/security-questions", json={"answers": {"pet": "1234"}}, headers=headers
    )
    assert unknown.status_code == 400 and unknown.json()["error"]["field"] == "question"

    saved = client.put(
        "/api/v1/me/security-questions",
        json={"answers": {"birth_date": "1990-03-05", "mother_birthday": "3月5日"}},
        headers=headers,
    )
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["asked"] == 2
    listed = {q["question"]: q for q in body["questions"]}
    assert listed["mother_birthday"]["set"] and listed["birth_date"]["set"]
    assert listed["mother_birthday"]["text"] == "您母亲的生日"  # the customer's language
    assert listed["id_last6"]["keys"] == 6 and all(q["set"] for q in listed.values())
    shown = client.get("/api/v1/me/security-questions?lang=en", headers=headers)
    english = {q["question"]: q for q in shown.json()["questions"]}
    assert english["mother_birthday"]["text"] == "Your mother's birthday"
    assert english["birth_date"]["set_at"] == listed["birth_date"]["set_at"]

    # the date given as 1990-03-05 is answered as 19900305 on the keypad
    challenge = start(db, settings)
    verified = reply(db, settings, challenge, {**KEYPAD, "mother_birthday": "0305"})
    assert verified.verification.status == "verified"

    texts = [saved.text, shown.text, simple.text, unknown.text, all_logs.text]
    assert "INSERT INTO security_answer" in all_logs.text  # the statement log was on
    db.commit()  # audit rows are written when their transaction commits
    texts += [
        f"{row.before} {row.after}"
        for row in db.scalars(select(AuditEvent).where(AuditEvent.customer_id == holder.id))
    ]
    for secret in (*SECRETS, "0305", "3月5日"):
        assert not any(mentions(text, secret) for text in texts), secret
        assert plain_text_columns_holding(db, secret) == [], secret
