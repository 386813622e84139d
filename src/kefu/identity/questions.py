"""Security questions (安全问题): the second way to prove who you are, for a caller who
cannot receive the SMS code (a lost or stolen phone, a call from another number).

The questions come from a fixed list that a phone keypad can answer (``QUESTIONS``). A
customer sets their answers after a fresh one-time-code verification, or the demo seeds
them; each answer is normalised (``1990-03-05`` and ``19900305`` are the same date) and
stored only as an argon2 hash. No answer is ever returned, logged or audited.

A verification by security questions starts from the account number as typed on a keypad
(``W000000002`` → ``000000002``). It asks ``KEFU_SECURITY_QUESTIONS_ASKED`` questions chosen
at random among those the customer set. An account that does not exist, or whose holder
set fewer answers than that, is treated alike: as many questions drawn from the whole list,
each answer checked against a dummy hash (the same time) and never matching, so nothing
tells which accounts exist. Answers come one at a time; each is checked as it arrives and
the outcome kept on the verification (``round_marks``), but the caller learns only at the
end of the round whether all were right, never which was wrong. A wrong round counts one
failed attempt, and ``KEFU_SECURITY_QUESTIONS_MAX_ATTEMPTS`` of them lock the verification
(not the call). Starts are limited per caller and per account typed, existing or not.

A verification by questions is *light*: it proves less than a code sent to the registered
phone, so it allows looking (balance, a top-up's status, a case's progress) and freezing,
which only protects the account; unfreezing, unlocking and anything that moves money need
a one-time code or a person's full review (``allows`` / ``require_allowed``).

Service functions flush and never commit; the caller commits, and commits a wrong round
before reporting it so the try counts.
"""

from __future__ import annotations

import logging
import re
import secrets
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu import audit, ratelimit
from kefu.config import Settings
from kefu.db import utcnow
from kefu.errors import (
    InvalidInput,
    KefuError,
    NotFound,
    PermissionDenied,
    VerificationExpired,
    VerificationLocked,
)
from kefu.identity import otp
from kefu.identity import secrets as kefu_secrets
from kefu.identity import service as identity_service
from kefu.identity.models import SecurityAnswer, Verification

log = logging.getLogger("kefu.identity")

METHOD = "security_questions"
FULL = "full"
LIGHT = "light"
# what a light verification may be used for (looking, tracing a movement that has not
# arrived, freezing); every other action needs a full one
LIGHT_ACTIONS = frozenset({"read", "trace", "freeze"})
# setting answers needs a code verification at most this old
FRESH = timedelta(minutes=10)
# the questions of a verification must be answered within this time of its start
ANSWER_WITHIN = timedelta(minutes=10)
PUBLIC = otp.PUBLIC


class AnswersWrong(KefuError):
    """A round of answers that did not all match; ``remaining`` rounds are left."""

    code = "security_answers_wrong"
    message_key = "error.security.answers_wrong"


class FreshVerificationNeeded(PermissionDenied):
    """Setting security answers needs a one-time-code verification of the last minutes."""

    code = "fresh_verification_needed"
    message_key = "error.security.fresh_verification_needed"


# --- the questions ------------------------------------------------------------------------


def _clean(raw: str) -> str:
    """Full-width characters folded (１９９０ → 1990), spaces dropped, letters upper-case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw or "")).upper()


_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")
_MONTH_DAY = re.compile(r"(\d{1,2})[-/.月](\d{1,2})日?")


def normalise_birth_date(raw: str, *, today: date | None = None) -> str:
    """A date of birth as ``YYYYMMDD``: ``19900305``, ``1990-03-05``, ``1990/3/5`` and
    ``1990年3月5日`` are the same answer."""
    text = _clean(raw)
    found = _DATE.fullmatch(text)
    parts = found.groups() if found else (text[:4], text[4:6], text[6:])
    if not found and not (text.isascii() and text.isdigit() and len(text) == 8):
        raise InvalidInput("a date of birth is 8 digits, year month day", field="birth_date")
    try:
        born = date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        raise InvalidInput("not a date", field="birth_date") from None
    if not date(1900, 1, 1) <= born <= (today or date.today()):
        raise InvalidInput("not a date of birth", field="birth_date")
    return born.strftime("%Y%m%d")


def normalise_id_last6(raw: str) -> str:
    """The last six characters of a Chinese ID card (居民身份证): five digits, then a digit
    or the check letter X. A keypad has no X: it is typed as ``*``."""
    text = _clean(raw).replace("*", "X")
    if not re.fullmatch(r"[0-9]{5}[0-9X]", text):
        raise InvalidInput(
            "the last six characters of an ID card: five digits, then a digit or X",
            field="id_last6",
        )
    return text


def normalise_own_number(raw: str) -> str:
    """The six digits the customer chose themselves."""
    text = _clean(raw)
    if not (text.isascii() and text.isdigit() and len(text) == 6):
        raise InvalidInput("the answer you choose is 6 digits", field="own_number")
    return text


def normalise_mother_birthday(raw: str) -> str:
    """The mother's birthday as ``MMDD``: ``0305``, ``03-05`` and ``3月5日`` alike."""
    text = _clean(raw)
    found = _MONTH_DAY.fullmatch(text)
    parts = found.groups() if found else (text[:2], text[2:])
    if not found and not (text.isascii() and text.isdigit() and len(text) == 4):
        raise InvalidInput("a birthday is 4 digits, month and day", field="mother_birthday")
    try:
        day = date(2000, int(parts[0]), int(parts[1]))  # a leap year: 29 February exists
    except ValueError:
        raise InvalidInput("not a day of the year", field="mother_birthday") from None
    return day.strftime("%m%d")


def _too_simple(digits: str) -> bool:
    return len(set(digits)) == 1 or digits in "01234567890" or digits in "09876543210"


@dataclass(frozen=True)
class Question:
    id: str
    keys: int  # how many keys the answer takes on a phone
    normalise: Callable[[str], str]


QUESTIONS: dict[str, Question] = {
    q.id: q
    for q in (
        Question("birth_date", 8, normalise_birth_date),
        Question("id_last6", 6, normalise_id_last6),
        Question("own_number", 6, normalise_own_number),
        Question("mother_birthday", 4, normalise_mother_birthday),
    )
}


def question(question_id: str) -> Question:
    found = QUESTIONS.get(question_id)
    if found is None:
        raise InvalidInput(f"no security question {question_id!r}", field="question")
    return found


# --- a customer's answers -----------------------------------------------------------------


def answers_of(db: Session, customer_id: int) -> list[SecurityAnswer]:
    """Which questions the customer answered and when; the hashes stay in this module."""
    return list(
        db.scalars(
            select(SecurityAnswer)
            .where(SecurityAnswer.customer_id == customer_id)
            .order_by(SecurityAnswer.question)
        )
    )


def _store(
    db: Session,
    *,
    customer_id: int,
    answers: Mapping[str, str],
    actor: audit.Actor,
    now: datetime,
) -> list[SecurityAnswer]:
    if not answers:
        raise InvalidInput("give at least one answer", field="answers")
    normalised = {q: question(q).normalise(raw) for q, raw in answers.items()}
    own = normalised.get("own_number")
    if own is not None and _too_simple(own):
        raise InvalidInput(
            "choose six digits that are not all the same or in a row", field="own_number"
        )
    existing = {a.question: a for a in answers_of(db, customer_id)}
    for question_id, answer in normalised.items():
        row = existing.get(question_id)
        if row is None:
            row = SecurityAnswer(customer_id=customer_id, question=question_id)
            db.add(row)
        row.answer_hash = kefu_secrets.hash_answer(answer)
        row.set_at = now
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="security_questions.set",
        customer_id=customer_id,
        after={"questions": sorted(normalised)},
    )
    log.info("customer %s set security answers for %s", customer_id, sorted(normalised))
    return answers_of(db, customer_id)


def set_answers(
    db: Session,
    *,
    customer_id: int,
    verification_id: int | None,
    answers: Mapping[str, str],
    now: datetime | None = None,
) -> list[SecurityAnswer]:
    """Set (or replace) the customer's answers to the questions given.

    Only with a one-time-code verification of the last ``FRESH`` minutes: a stolen session,
    or a verification by the questions themselves, cannot change them.
    """
    now = now or utcnow()
    proof = db.get(Verification, verification_id) if verification_id is not None else None
    if (
        proof is None
        or proof.customer_id != customer_id
        or strength(proof) != FULL
        or proof.status != "verified"
        or proof.verified_at is None
        or proof.verified_at + FRESH <= now
    ):
        raise FreshVerificationNeeded("verify with a one-time code again to change these")
    actor = audit.Actor(name=f"customer:{customer_id}", role="customer")
    return _store(db, customer_id=customer_id, answers=answers, actor=actor, now=now)


def seed_answers(
    db: Session, *, customer_id: int, answers: Mapping[str, str], now: datetime | None = None
) -> list[SecurityAnswer]:
    """Answers set by the system: the demo's customers."""
    actor = audit.Actor.system()
    return _store(db, customer_id=customer_id, answers=answers, actor=actor, now=now or utcnow())


# --- verification by the questions ---------------------------------------------------------


@dataclass(frozen=True)
class Challenge:
    """A started verification and the questions to ask, in order."""

    verification: Verification
    questions: tuple[str, ...]


@dataclass(frozen=True)
class Progress:
    """After one answer: the next question, or None when the verification holds."""

    verification: Verification
    next_question: str | None


def _account_digits(raw: str) -> str:
    digits = unicodedata.normalize("NFKC", raw or "").strip()
    if not (digits.isascii() and digits.isdigit() and 4 <= len(digits) <= 20):
        raise InvalidInput("an account number is 4 to 20 digits", field="account")
    return digits


def start_verification(
    db: Session,
    *,
    account: str,
    channel: str,
    client_key: str,
    settings: Settings,
    now: datetime | None = None,
) -> Challenge:
    """Begin proving who holds the account typed as ``account`` (keypad digits).

    ``client_key`` names the caller (the hotline: a keyed hash of the calling number) for
    the per-caller limit. The answer is the same for every account, existing or not.
    """
    now = now or utcnow()
    digits = _account_digits(account)
    ratelimit.hit(
        db,
        bucket="verification.questions",
        key=client_key,
        limit=settings.security_questions_max_per_client_per_hour,
        window_seconds=3600,
        secret=settings.secret_key,
        now=now,
    )
    customer = identity_service.find_customer_by_keypad_account(db, digits)
    ratelimit.hit(
        db,
        bucket="verification.questions.account",
        key=f"customer:{customer.id}" if customer else f"digits:{digits}",
        limit=settings.security_questions_max_per_account_per_day,
        window_seconds=24 * 3600,
        secret=settings.secret_key,
        now=now,
    )
    answered = [a.question for a in answers_of(db, customer.id)] if customer else []
    wanted = settings.security_questions_asked
    pool = answered if len(answered) >= wanted else sorted(QUESTIONS)
    asked = tuple(secrets.SystemRandom().sample(pool, wanted))
    verification = Verification(
        public_id=secrets.token_urlsafe(16),
        customer_id=customer.id if customer else None,
        method=METHOD,
        channel=channel,
        destination_masked=f"****{digits[-4:]}",
        status="pending",
        failed_attempts=0,
        created_at=now,
        questions=",".join(asked),
        round_marks="",
    )
    db.add(verification)
    db.flush()
    audit.record(
        db,
        actor=PUBLIC,
        action="verification.started",
        customer_id=verification.customer_id,
        after=_summary(verification),
    )
    log.info("verification %s started (%s, %s)", verification.public_id, METHOD, channel)
    return Challenge(verification=verification, questions=asked)


def _pending(db: Session, public_id: str, now: datetime) -> Verification:
    query = select(Verification).where(Verification.public_id == public_id)
    verification = db.scalar(query.with_for_update())
    if verification is None or verification.method != METHOD:
        raise NotFound("no such verification")
    if verification.status == "locked":
        raise VerificationLocked("too many wrong answers")
    if verification.status != "pending" or verification.created_at + ANSWER_WITHIN <= now:
        raise VerificationExpired("verification already used or out of time")
    return verification


def asked_questions(verification: Verification) -> tuple[str, ...]:
    return tuple((verification.questions or "").split(","))


def answer(
    db: Session,
    *,
    verification_public_id: str,
    answer: str,
    settings: Settings,
    now: datetime | None = None,
) -> Progress:
    """Check the answer to the current question of a pending verification.

    An answer that cannot be one (a date that does not exist) raises ``InvalidInput`` and
    counts nothing. The last answer of a round settles it: all right, the verification
    holds; otherwise ``AnswersWrong`` (or ``VerificationLocked`` on the last allowed round)
    after counting the round, and the next round asks the same questions again.
    """
    now = now or utcnow()
    verification = _pending(db, verification_public_id, now)
    asked = asked_questions(verification)
    marks = verification.round_marks or ""
    question_id = asked[len(marks)]
    normalised = question(question_id).normalise(answer)
    stored = None
    if verification.customer_id is not None:
        stored = db.scalar(
            select(SecurityAnswer.answer_hash).where(
                SecurityAnswer.customer_id == verification.customer_id,
                SecurityAnswer.question == question_id,
            )
        )
    # a missing answer is checked against a dummy hash, so both take the same time
    matches = kefu_secrets.verify_answer(stored, normalised)
    marks += "y" if matches and stored is not None else "n"
    if len(marks) < len(asked):
        verification.round_marks = marks
        db.flush()
        return Progress(verification=verification, next_question=asked[len(marks)])
    verification.round_marks = ""
    if marks != "y" * len(asked):
        _count_wrong_round(db, verification, settings, now)
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
    log.info("verification %s verified by security questions", verification.public_id)
    return Progress(verification=verification, next_question=None)


def _count_wrong_round(
    db: Session, verification: Verification, settings: Settings, now: datetime
) -> NoReturn:
    otp.count_failure(
        db,
        verification,
        max_attempts=settings.security_questions_max_attempts,
        now=now,
        wrong=lambda remaining: AnswersWrong("wrong answers", remaining=remaining),
        summary=_summary,
        what="answers",
    )


# --- what a verification allows -----------------------------------------------------------


def strength(verification: Verification) -> str:
    """``full`` for a one-time code to a registered phone or address, ``light`` for the
    security questions."""
    return LIGHT if verification.method == METHOD else FULL


def allows(verification: Verification, action: str) -> bool:
    """Whether ``verification`` may be used for ``action`` (``read``, ``freeze``, or any
    other account or money action, such as ``unfreeze`` or ``refund``)."""
    return strength(verification) == FULL or action in LIGHT_ACTIONS


def require_allowed(db: Session, verification_id: int | None, action: str) -> Verification:
    """The verification behind an action, refused unless it is strong enough for it."""
    verification = db.get(Verification, verification_id) if verification_id is not None else None
    if verification is None:
        raise PermissionDenied("no verification")
    if not allows(verification, action):
        raise PermissionDenied(
            f"a verification by security questions does not allow {action}: "
            "it needs a one-time code or a person's review"
        )
    return verification


def _summary(verification: Verification) -> dict[str, str]:
    return {
        "verification": verification.public_id,
        "method": verification.method,
        "channel": verification.channel,
        "destination": verification.destination_masked,
        "status": verification.status,
        "strength": strength(verification),
        "questions": verification.questions or "",
        "failed_attempts": str(verification.failed_attempts),
    }
