"""One-time codes and verifications, driven through the service with a controlled clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.audit import AuditEvent
from kefu.channels.models import OutboxMessage
from kefu.channels.senders import Senders, build_senders
from kefu.config import Settings
from kefu.errors import (
    CodeExpired,
    CodeInvalid,
    CodeLimitReached,
    CodeResendTooSoon,
    DeliveryFailed,
    InvalidInput,
    NotFound,
    VerificationExpired,
    VerificationLocked,
)
from kefu.i18n import catalogue
from kefu.identity import otp
from kefu.identity import secrets as kefu_secrets
from kefu.identity import service as identity_service
from kefu.identity.models import Customer, OneTimeCode, Verification

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
PHONE = "+8613800000001"
EMAIL = "zhang.wei@example.com"


@pytest.fixture
def senders(settings: Settings) -> Senders:
    return build_senders(settings)


@pytest.fixture
def customer(db: Session) -> Customer:
    return identity_service.create_customer(
        db, wallet_account_id="W-0001", name="张伟", phone=PHONE, email=EMAIL
    )


def last_code(db: Session, to: str) -> str:
    body = db.scalars(
        select(OutboxMessage.body)
        .where(OutboxMessage.destination == to)
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert body is not None, f"nothing sent to {to}"
    found = re.search(r"\b\d{6}\b", body)
    assert found is not None
    return found.group()


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def start(
    db: Session, settings: Settings, senders: Senders, contact: str = PHONE, at: datetime = T0
) -> otp.CodeSent:
    return otp.start_verification(
        db, contact=contact, channel="chat", settings=settings, senders=senders, now=at
    )


def resend(
    db: Session, settings: Settings, senders: Senders, verification: Verification, at: datetime
) -> otp.CodeSent:
    return otp.resend_code(
        db,
        verification_public_id=verification.public_id,
        settings=settings,
        senders=senders,
        now=at,
    )


def confirm(
    db: Session, settings: Settings, verification: Verification, code: str, at: datetime
) -> Verification:
    return otp.confirm_code(
        db,
        verification_public_id=verification.public_id,
        code=code,
        settings=settings,
        now=at,
    )


def test_code_sent_by_sms_in_customers_language_and_confirms(
    db: Session, settings: Settings, senders: Senders, customer: Customer
) -> None:
    sent = start(db, settings, senders, contact="138 0000 0001")
    message = db.scalars(select(OutboxMessage).where(OutboxMessage.destination == PHONE)).one()
    assert message.channel == "sms" and message.purpose == "otp"
    assert message.body.startswith("【Kefu】您的验证码是 ")
    assert "5分钟内有效" in message.body
    assert sent.verification.destination_masked == "138****0001"
    assert sent.verification.method == "phone"
    assert (sent.expires_in, sent.resend_after) == (300, 60)

    at = T0 + timedelta(seconds=4)
    verified = confirm(db, settings, sent.verification, last_code(db, PHONE), at)
    assert verified.status == "verified"
    assert verified.customer_id == customer.id
    assert verified.verified_at == at
    assert verified.expires_at == at + timedelta(seconds=1800)


def test_email_code_in_english_for_an_english_customer(
    db: Session, settings: Settings, senders: Senders
) -> None:
    identity_service.create_customer(
        db, wallet_account_id="W-0002", name="Amy", email="Amy@Example.com", language="en"
    )
    sent = start(db, settings, senders, contact=" AMY@example.com ")
    message = db.scalars(select(OutboxMessage)).one()
    assert (message.channel, message.destination) == ("email", "amy@example.com")
    assert message.subject == "Your Kefu verification code"
    assert "Your verification code is" in message.body
    assert sent.verification.method == "email"
    assert sent.verification.destination_masked == "a***@example.com"


def test_code_is_stored_hashed(
    db: Session, settings: Settings, senders: Senders, customer: Customer
) -> None:
    sent = start(db, settings, senders)
    code = last_code(db, PHONE)
    stored = db.scalars(
        select(OneTimeCode).where(OneTimeCode.verification_id == sent.verification.id)
    ).one()
    assert stored.code_hash.startswith("$argon2")
    assert code not in stored.code_hash
    # the destination is a keyed hash, not the phone number
    assert PHONE not in stored.destination and "13800000001" not in stored.destination


def test_code_expires_after_five_minutes(
    db: Session, settings: Settings, senders: Senders, customer: Customer
) -> None:
    sent = start(db, settings, senders)
    code = last_code(db, PHONE)
    with pytest.raises(CodeExpired):
        confirm(db, settings, sent.verification, code, T0 + timedelta(seconds=300))
    assert sent.verification.failed_attempts == 0
    assert confirm(db, settings, sent.verification, code, T0 + timedelta(seconds=299)).status == (
        "verified"
    )


def test_code_is_single_use(
    db: Session, settings: Settings, senders: Senders, customer: Customer
) -> None:
    sent = start(db, settings, senders)
    code = last_code(db, PHONE)
    confirm(db, settings, sent.verification, code, T0 + timedelta(seconds=10))
    with pytest.raises(VerificationExpired):
        confirm(db, settings, sent.verification, code, T0 + timedelta(seconds=11))


def test_five_wrong_tries_lock_the_verification_even_for_the_right_code(
    db: Session, settings: Settings, senders: Senders, customer: Customer
) -> None:
    sent = start(db, settings, senders)
    code = last_code(db, PHONE)
    for remaining in (4, 3, 2, 1):
        with pytest.raises(CodeInvalid) as raised:
            confirm(db, settings, sent.verification, wrong(code), T0 + timedelta(seconds=5))
        assert raised.value.params["remaining"] == remaining
    with pytest.raises(VerificationLocked):
        confirm(db, settings, sent.verification, wrong(code), T0 + timedelta(seconds=6))
    assert sent.verification.status == "locked"
    assert sent.verification.locked_at == T0 + timedelta(seconds=6)
    with pytest.raises(VerificationLocked):
        confirm(db, settings, sent.verification, code, T0 + timedelta(seconds=7))
    with pytest.raises(VerificationLocked):
        resend(db, settings, senders, sent.verification, T0 + timedelta(seconds=120))
    db.commit()  # audit rows are written when their transaction commits
    actions = list(
        db.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.customer_id == customer.id)
            .order_by(AuditEvent.id)
        )
    )
    assert actions == ["verification.started", "verification.locked"]


def test_a_locked_verification_does_not_stop_a_new_one(
    db: Session, settings: Settings, senders: Senders, customer: Customer
) -> None:
    first = start(db, settings, senders)
    for _ in range(settings.otp_max_attempts - 1):
        with pytest.raises(CodeInvalid):
            confirm(db, settings, first.verification, "000000", T0)
    with pytest.raises(VerificationLocked):
        confirm(db, settings, first.verification, "000000", T0)
    second = start(db, settings, senders, at=T0 + timedelta(seconds=61))
    code = last_code(db, PHONE)
    assert confirm(db, settings, second.verification, code, T0 + timedelta(seconds=70)).status == (
        "verified"
    )


def test_resend_waits_sixty_seconds_and_retires_the_old_code(
    db: Session,
    settings: Settings,
    senders: Senders,
    customer: Customer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    codes = iter(["111111", "222222"])
    monkeypatch.setattr(kefu_secrets, "new_numeric_code", lambda: next(codes))
    sent = start(db, settings, senders)
    with pytest.raises(CodeResendTooSoon) as raised:
        resend(db, settings, senders, sent.verification, T0 + timedelta(seconds=45))
    assert raised.value.retry_after == 15
    resend(db, settings, senders, sent.verification, T0 + timedelta(seconds=60))
    assert last_code(db, PHONE) == "222222"
    at = T0 + timedelta(seconds=61)
    with pytest.raises(CodeInvalid) as wrong_try:
        confirm(db, settings, sent.verification, "111111", at)
    assert wrong_try.value.params["remaining"] == 4
    assert confirm(db, settings, sent.verification, "222222", at).status == "verified"
    with pytest.raises(VerificationExpired):
        resend(db, settings, senders, sent.verification, T0 + timedelta(seconds=200))


def test_starting_again_counts_against_the_same_destination(
    db: Session, settings: Settings, senders: Senders, customer: Customer
) -> None:
    start(db, settings, senders)
    with pytest.raises(CodeResendTooSoon):
        start(db, settings, senders, contact="+86 138-0000-0001", at=T0 + timedelta(seconds=30))
    assert db.scalar(select(func.count()).select_from(Verification)) == 1


def test_at_most_five_codes_per_destination_per_rolling_hour(
    db: Session, settings: Settings, senders: Senders, customer: Customer
) -> None:
    times = [T0 + timedelta(minutes=2 * i) for i in range(5)]  # 08:00 ... 08:08
    for at in times:
        start(db, settings, senders, at=at)
    with pytest.raises(CodeLimitReached) as raised:
        start(db, settings, senders, at=T0 + timedelta(minutes=30))
    assert raised.value.retry_after == 30 * 60  # the 08:00 code leaves the window at 09:00
    assert raised.value.params["minutes"] == 30
    # the e-mail address is a different destination
    start(db, settings, senders, contact=EMAIL, at=T0 + timedelta(minutes=30))
    start(db, settings, senders, at=T0 + timedelta(hours=1, seconds=1))
    assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 7


def test_unknown_contact_answers_alike_but_sends_nothing_and_never_confirms(
    db: Session, settings: Settings, senders: Senders, customer: Customer
) -> None:
    stranger = start(db, settings, senders, contact="13900000009")
    known = start(db, settings, senders, contact=PHONE)
    assert stranger.verification.customer_id is None
    assert (stranger.expires_in, stranger.resend_after) == (known.expires_in, known.resend_after)
    assert stranger.verification.destination_masked == "139****0009"
    assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 1  # the customer's
    # a code was still made and counted, so the rate limits answer alike too
    with pytest.raises(CodeResendTooSoon):
        start(db, settings, senders, contact="13900000009", at=T0 + timedelta(seconds=1))
    for code in ("000000", "123456", "999999", "555555"):
        with pytest.raises(CodeInvalid):
            confirm(db, settings, stranger.verification, code, T0)
    with pytest.raises(VerificationLocked):
        confirm(db, settings, stranger.verification, "111111", T0)


@pytest.mark.parametrize("raw", ["12345", "1234567", "12345a", "", "١٢٣٤٥٦", "12 3456"])
def test_code_must_be_six_ascii_digits(raw: str) -> None:
    with pytest.raises(InvalidInput):
        otp.normalise_code(raw)


def test_full_width_digits_are_accepted() -> None:
    assert otp.normalise_code(" １２３４５６ ") == "123456"


def test_malformed_code_does_not_count_as_a_try(
    db: Session, settings: Settings, senders: Senders, customer: Customer
) -> None:
    sent = start(db, settings, senders)
    with pytest.raises(InvalidInput):
        confirm(db, settings, sent.verification, "12ab56", T0)
    assert sent.verification.failed_attempts == 0


def test_bad_contact_and_unknown_verification(
    db: Session, settings: Settings, senders: Senders
) -> None:
    with pytest.raises(InvalidInput) as raised:
        start(db, settings, senders, contact="not a number")
    assert raised.value.params["field"] == "contact"
    with pytest.raises(NotFound):
        otp.confirm_code(
            db, verification_public_id="nope", code="123456", settings=settings, now=T0
        )


def test_verification_expires_and_current_verification_follows(
    db: Session, settings: Settings, senders: Senders, customer: Customer
) -> None:
    sent = start(db, settings, senders)
    assert otp.current_verification(db, customer_id=customer.id, now=T0) is None
    verified = confirm(db, settings, sent.verification, last_code(db, PHONE), T0)
    later = T0 + timedelta(seconds=settings.verification_ttl_seconds)
    assert otp.current_verification(db, customer_id=customer.id, now=T0) is verified
    assert otp.verification_status(verified, T0) == "verified"
    assert otp.current_verification(db, customer_id=customer.id, now=later) is None
    assert otp.verification_status(verified, later) == "expired"
    assert otp.list_verifications(db, customer.id) == [verified]


@pytest.mark.parametrize(
    "key",
    [
        *(
            error.message_key
            for error in (
                CodeExpired,
                CodeInvalid,
                CodeLimitReached,
                CodeResendTooSoon,
                VerificationExpired,
                VerificationLocked,
                DeliveryFailed,
            )
        ),
        "otp.sms",
        "otp.email.subject",
        "otp.email.body",
    ],
)
def test_texts_exist_in_both_languages(key: str) -> None:
    assert key in catalogue("zh-CN") and key in catalogue("en")
