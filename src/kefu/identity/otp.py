"""One-time codes (验证码) and the verifications they prove.

A verification starts when someone gives a phone number or e-mail address. If it belongs to
a customer, a 6-digit code goes there; if not, everything happens the same way (a code is
made, hashed and counted against the rate limits) except that nothing is sent and no code
can ever confirm it, so the answers never reveal who is a customer.

Codes are stored only as argon2 hashes; the text of the message, code included, leaves
this module only through the sender. Wrong tries are counted on the verification, so a
resend does not reset them, and a run of wrong tries locks that verification only.

``OneTimeCode.destination`` holds a keyed hash of the phone number or e-mail address, not
the address itself: enough to count codes per destination, without keeping the numbers of
people who are not customers.

Service functions flush and never commit; callers commit, and a route that reports a
wrong code commits first so the try counts.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from kefu import audit
from kefu.channels.message import OutgoingMessage
from kefu.channels.senders import Senders
from kefu.config import Settings
from kefu.contacts import looks_like_email, normalise_email, normalise_phone
from kefu.db import utcnow
from kefu.errors import (
    CodeExpired,
    CodeInvalid,
    CodeLimitReached,
    CodeResendTooSoon,
    InvalidInput,
    KefuError,
    NotFound,
    VerificationExpired,
    VerificationLocked,
)
from kefu.i18n import Lang, normalise_lang, translate
from kefu.identity import secrets as kefu_secrets
from kefu.identity.models import Customer, OneTimeCode, Verification
from kefu.masking import mask_destination

log = logging.getLogger("kefu.identity")

CODE_PATTERN = re.compile(r"[0-9]{6}")
HOUR = timedelta(hours=1)
PUBLIC = audit.Actor(name="public", role="unverified")


@dataclass(frozen=True)
class CodeSent:
    """What the caller may be told after a code was (or, for strangers, seemed to be) sent."""

    verification: Verification
    expires_in: int
    resend_after: int


def verification_status(verification: Verification, now: datetime | None = None) -> str:
    """``pending``, ``verified``, ``locked`` or ``expired``: a verified one expires by time."""
    now = now or utcnow()
    if (
        verification.status == "verified"
        and verification.expires_at is not None
        and verification.expires_at <= now
    ):
        return "expired"
    return verification.status


def normalise_code(raw: str) -> str:
    """Full-width digits (１２３４５６) and surrounding spaces are accepted; nothing else."""
    code = unicodedata.normalize("NFKC", raw or "").strip()
    if not CODE_PATTERN.fullmatch(code):
        raise InvalidInput("a code is exactly 6 digits", field="code")
    return code


def _contact(raw: str) -> tuple[str, str]:
    """(method, normalised destination) for a phone number or e-mail address."""
    try:
        if looks_like_email(raw):
            return "email", normalise_email(raw)
        return "phone", normalise_phone(raw)
    except InvalidInput as exc:
        raise InvalidInput("not a phone number or e-mail address", field="contact") from exc


def _destination_key(settings: Settings, destination: str) -> str:
    return hmac.new(settings.secret_key.encode(), destination.encode(), hashlib.sha256).hexdigest()


def _lock_destination(db: Session, key: str) -> None:
    # Two requests for the same destination must not both pass the rate limits. SQLite
    # takes its write lock at BEGIN; PostgreSQL needs an explicit lock per destination.
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": int(key[:15], 16)})


def _check_rate_limits(db: Session, key: str, settings: Settings, now: datetime) -> None:
    sent = list(
        db.scalars(
            select(OneTimeCode.sent_at)
            .where(OneTimeCode.destination == key, OneTimeCode.sent_at > now - HOUR)
            .order_by(OneTimeCode.sent_at)
        )
    )
    if not sent:
        return
    wait = sent[-1] + timedelta(seconds=settings.otp_resend_after_seconds) - now
    if wait.total_seconds() > 0:
        raise CodeResendTooSoon(
            "a code was sent to this destination recently",
            retry_after=math.ceil(wait.total_seconds()),
        )
    if len(sent) >= settings.otp_max_per_hour:
        seconds = math.ceil((sent[-settings.otp_max_per_hour] + HOUR - now).total_seconds())
        raise CodeLimitReached(
            "too many codes for this destination in the last hour",
            retry_after=seconds,
            minutes=math.ceil(seconds / 60),
        )


def _customer_lang(customer: Customer, settings: Settings) -> Lang:
    return normalise_lang(customer.language) or settings.default_language


def _send_code(
    db: Session,
    *,
    verification: Verification,
    key: str,
    settings: Settings,
    senders: Senders,
    now: datetime,
) -> CodeSent:
    """Make a new code for ``verification``, store its hash and send it (to customers only).

    Confirmation looks only at the newest code, so this also retires any earlier one. The
    caller has taken the destination lock and checked the rate limits.
    """
    code = kefu_secrets.new_numeric_code()
    db.add(
        OneTimeCode(
            verification_id=verification.id,
            destination=key,
            code_hash=kefu_secrets.hash_code(code),
            sent_at=now,
            expires_at=now + timedelta(seconds=settings.otp_ttl_seconds),
        )
    )
    db.flush()
    customer = db.get(Customer, verification.customer_id) if verification.customer_id else None
    if customer is not None:
        lang = _customer_lang(customer, settings)
        minutes = math.ceil(settings.otp_ttl_seconds / 60)
        if verification.method == "email" and customer.email:
            senders.email.send(
                db,
                OutgoingMessage(
                    to=customer.email,
                    purpose="otp",
                    subject=translate("otp.email.subject", lang),
                    body=translate("otp.email.body", lang, code=code, minutes=minutes),
                    secrets=(code,),
                ),
            )
        elif verification.method == "phone" and customer.phone:
            senders.sms.send(
                db,
                OutgoingMessage(
                    to=customer.phone,
                    purpose="otp",
                    body=translate("otp.sms", lang, code=code, minutes=minutes),
                    secrets=(code,),
                ),
            )
    return CodeSent(
        verification=verification,
        expires_in=settings.otp_ttl_seconds,
        resend_after=settings.otp_resend_after_seconds,
    )


def start_verification(
    db: Session,
    *,
    contact: str,
    channel: str,
    settings: Settings,
    senders: Senders,
    now: datetime | None = None,
) -> CodeSent:
    """Begin proving a phone number or e-mail address; ``channel`` is where the customer is."""
    now = now or utcnow()
    method, destination = _contact(contact)
    key = _destination_key(settings, destination)
    _lock_destination(db, key)
    _check_rate_limits(db, key, settings, now)
    customer = db.scalar(
        select(Customer).where(
            Customer.email == destination if method == "email" else Customer.phone == destination
        )
    )
    verification = Verification(
        public_id=secrets.token_urlsafe(16),
        customer_id=customer.id if customer else None,
        method=method,
        channel=channel,
        destination_masked=mask_destination(destination),
        status="pending",
        failed_attempts=0,
        created_at=now,
    )
    db.add(verification)
    db.flush()
    sent = _send_code(
        db, verification=verification, key=key, settings=settings, senders=senders, now=now
    )
    audit.record(
        db,
        actor=PUBLIC,
        action="verification.started",
        customer_id=verification.customer_id,
        after=_summary(verification),
    )
    log.info("verification %s started (%s, %s)", verification.public_id, method, channel)
    return sent


def get_verification(db: Session, public_id: str, *, for_update: bool = False) -> Verification:
    query = select(Verification).where(Verification.public_id == public_id)
    if for_update:
        query = query.with_for_update()
    verification = db.scalar(query)
    if verification is None:
        raise NotFound("no such verification")
    return verification


def _latest_code(db: Session, verification: Verification) -> OneTimeCode:
    code = db.scalar(
        select(OneTimeCode)
        .where(OneTimeCode.verification_id == verification.id)
        .order_by(OneTimeCode.id.desc())
        .limit(1)
    )
    if code is None:  # every verification is created with its first code
        raise VerificationExpired("verification has no code")
    return code


def _refuse_unless_pending(verification: Verification) -> None:
    if verification.status == "locked":
        raise VerificationLocked("too many wrong codes")
    if verification.status != "pending":
        raise VerificationExpired("verification already used")


def resend_code(
    db: Session,
    *,
    verification_public_id: str,
    settings: Settings,
    senders: Senders,
    now: datetime | None = None,
) -> CodeSent:
    """A new code for a pending verification; the previous one stops working."""
    now = now or utcnow()
    verification = get_verification(db, verification_public_id, for_update=True)
    _refuse_unless_pending(verification)
    key = _latest_code(db, verification).destination
    _lock_destination(db, key)
    _check_rate_limits(db, key, settings, now)
    return _send_code(
        db, verification=verification, key=key, settings=settings, senders=senders, now=now
    )


def confirm_code(
    db: Session,
    *,
    verification_public_id: str,
    code: str,
    settings: Settings,
    now: datetime | None = None,
) -> Verification:
    """Check ``code``; on success the verification is ``verified`` until it expires.

    A wrong code raises ``CodeInvalid`` (or ``VerificationLocked`` on the last allowed try)
    after counting the try; the caller commits before reporting it.
    """
    now = now or utcnow()
    code = normalise_code(code)
    verification = get_verification(db, verification_public_id, for_update=True)
    _refuse_unless_pending(verification)
    latest = _latest_code(db, verification)
    if latest.expires_at <= now:
        raise CodeExpired("code expired")
    # Hash-check strangers' codes too, so both take the same time; theirs never match.
    matches = kefu_secrets.verify_code(latest.code_hash, code)
    if not (matches and verification.customer_id is not None):
        count_failure(
            db,
            verification,
            max_attempts=settings.otp_max_attempts,
            now=now,
            wrong=lambda remaining: CodeInvalid("wrong code", remaining=remaining),
            summary=_summary,
            what="codes",
        )
    latest.used_at = now
    verification.status = "verified"
    verification.verified_at = now
    verification.expires_at = now + timedelta(seconds=settings.verification_ttl_seconds)
    db.flush()
    audit.record(
        db,
        actor=audit.Actor(name=f"customer:{verification.customer_id}", role="customer"),
        action="verification.verified",
        customer_id=verification.customer_id,
        after=_summary(verification),
    )
    log.info("verification %s verified", verification.public_id)
    return verification


def current_verification(
    db: Session, *, customer_id: int, now: datetime | None = None
) -> Verification | None:
    """The customer's newest verification that still holds, if any."""
    now = now or utcnow()
    return db.scalar(
        select(Verification)
        .where(
            Verification.customer_id == customer_id,
            Verification.status == "verified",
            Verification.expires_at > now,
        )
        .order_by(Verification.verified_at.desc(), Verification.id.desc())
        .limit(1)
    )


def list_verifications(db: Session, customer_id: int, *, limit: int = 50) -> list[Verification]:
    return list(
        db.scalars(
            select(Verification)
            .where(Verification.customer_id == customer_id)
            .order_by(Verification.id.desc())
            .limit(limit)
        )
    )


def count_failure(
    db: Session,
    verification: Verification,
    *,
    max_attempts: int,
    now: datetime,
    wrong: Callable[[int], KefuError],
    summary: Callable[[Verification], dict[str, str]],
    what: str,
) -> NoReturn:
    """One more wrong try (a code, a round of answers): ``wrong(remaining)`` while tries
    remain; the last one locks the verification, not the conversation or call, audited."""
    verification.failed_attempts += 1
    remaining = max_attempts - verification.failed_attempts
    if remaining > 0:
        db.flush()
        raise wrong(remaining)
    verification.status = "locked"
    verification.locked_at = now
    db.flush()
    audit.record(
        db,
        actor=PUBLIC,
        action="verification.locked",
        customer_id=verification.customer_id,
        after=summary(verification),
    )
    log.info("verification %s locked after wrong %s", verification.public_id, what)
    raise VerificationLocked(f"too many wrong {what}")


def _summary(verification: Verification) -> dict[str, str]:
    return {
        "verification": verification.public_id,
        "method": verification.method,
        "channel": verification.channel,
        "destination": verification.destination_masked,
        "status": verification.status,
    }
