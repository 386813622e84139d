"""Two-factor sign-in for staff: a TOTP authenticator app (RFC 6238, pyotp) and single-use
recovery codes.

The shared secret is kept encrypted (Fernet, with a key derived from ``KEFU_SECRET_KEY``),
because it has to be read back to check a code; recovery codes are random, so only their
keyed SHA-256 is kept and each is shown once. Wrong codes are counted on the person, and
``KEFU_OTP_MAX_ATTEMPTS`` of them in a row lock the second factor, as a run of wrong
one-time codes locks a verification; a right code resets the count, and only an admin
unlocks. A code is accepted once: the time step it belongs to is remembered.

Functions flush and never commit; a caller that reports a wrong code commits first so the
try counts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, NoReturn

import pyotp
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kefu import audit
from kefu.config import Settings
from kefu.db import utcnow
from kefu.errors import InvalidInput
from kefu.identity.errors import TwoFactorLocked, TwoFactorWrong
from kefu.identity.models import StaffRecoveryCode, StaffUser
from kefu.identity.permissions import ROLE_ORDER, Role

if TYPE_CHECKING:  # cryptography (~8 MB) is loaded by the first two-factor sign-in
    from cryptography.fernet import Fernet

ISSUER = "Kefu"
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
# a code from the step before or after the current one still counts (clock drift)
_VALID_WINDOW = 1


def _fernet(settings: Settings) -> Fernet:
    from cryptography.fernet import Fernet

    key = hashlib.sha256(f"kefu-totp:{settings.secret_key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _recovery_digest(settings: Settings, code: str) -> str:
    return hmac.new(
        settings.secret_key.encode(), f"recovery:{code}".encode(), hashlib.sha256
    ).hexdigest()


def required_for(role: str, settings: Settings) -> bool:
    """Whether ``role`` must sign in with two factors (``KEFU_STAFF_TWO_FACTOR_FROM``)."""
    lowest = settings.two_factor_from
    if lowest == "none":
        return False
    try:
        return ROLE_ORDER.index(Role(role)) >= ROLE_ORDER.index(Role(lowest))
    except ValueError:
        return False


def enabled(user: StaffUser) -> bool:
    return user.totp_enabled_at is not None


def needs_setup(user: StaffUser, settings: Settings) -> bool:
    return required_for(user.role, settings) and not enabled(user)


def _secret(user: StaffUser, settings: Settings) -> str | None:
    if user.totp_secret is None:
        return None
    from cryptography.fernet import InvalidToken

    try:
        return _fernet(settings).decrypt(user.totp_secret.encode()).decode()
    except InvalidToken:  # KEFU_SECRET_KEY changed: the person sets it up again
        return None


def begin_setup(db: Session, user: StaffUser, *, settings: Settings) -> str:
    """A new secret for a person setting up (or renewing) their authenticator; it counts
    only once a code from it is confirmed. Returns the ``otpauth://`` URI."""
    if enabled(user):
        raise InvalidInput("two-factor sign-in is already on", field="code")
    secret = pyotp.random_base32()
    user.totp_secret = _fernet(settings).encrypt(secret.encode()).decode()
    db.flush()
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def provisioning_uri(user: StaffUser, settings: Settings) -> str | None:
    """The ``otpauth://`` link of the secret being set up, drawn again after a wrong code."""
    secret = pending_secret(user, settings)
    if secret is None:
        return None
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def pending_secret(user: StaffUser, settings: Settings) -> str | None:
    """The secret being set up, to type into an app that cannot read the link."""
    return None if enabled(user) else _secret(user, settings)


def _clean_code(raw: str) -> str:
    return "".join((raw or "").split()).replace("-", "").upper()


def _lock_check(user: StaffUser) -> None:
    if user.totp_locked_at is not None:
        raise TwoFactorLocked("two-factor sign-in locked")


def _count_wrong(db: Session, user: StaffUser, settings: Settings, now: datetime) -> NoReturn:
    user.totp_failures += 1
    remaining = settings.otp_max_attempts - user.totp_failures
    if remaining > 0:
        db.flush()
        raise TwoFactorWrong("wrong code", remaining=remaining)
    user.totp_locked_at = now
    db.flush()
    audit.record(
        db,
        actor=audit.Actor(name=f"staff:{user.username}", role=user.role),
        action="staff.two_factor.locked",
        after={"username": user.username, "failures": user.totp_failures},
    )
    raise TwoFactorLocked("too many wrong codes")


def _accept_totp(user: StaffUser, secret: str, code: str, now: datetime) -> bool:
    """Whether ``code`` is the app's code for a time step near ``now`` that no earlier
    sign-in used; the step is then remembered, so an overheard code cannot be replayed."""
    if not (len(code) == 6 and code.isdigit()):
        return False
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - _VALID_WINDOW, current + _VALID_WINDOW + 1):
        fresh = user.totp_last_step is None or step > user.totp_last_step
        if fresh and hmac.compare_digest(totp.generate_otp(step), code):
            user.totp_last_step = step
            return True
    return False


def confirm_setup(
    db: Session, user: StaffUser, *, code: str, settings: Settings, now: datetime | None = None
) -> list[str]:
    """Turn two-factor sign-in on with a first right code; returns the recovery codes,
    which are never shown again."""
    now = now or utcnow()
    _lock_check(user)
    secret = pending_secret(user, settings)
    if secret is None:
        raise InvalidInput("start the set-up first", field="code")
    if not _accept_totp(user, secret, _clean_code(code), now):
        _count_wrong(db, user, settings, now)
    user.totp_enabled_at = now
    user.totp_failures = 0
    codes = _new_recovery_codes(db, user, settings)
    audit.record(
        db,
        actor=audit.Actor(name=f"staff:{user.username}", role=user.role),
        action="staff.two_factor.enabled",
        after={"username": user.username, "recovery_codes": len(codes)},
    )
    return codes


def _new_recovery_codes(db: Session, user: StaffUser, settings: Settings) -> list[str]:
    db.execute(
        update(StaffRecoveryCode)
        .where(StaffRecoveryCode.staff_user_id == user.id, StaffRecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.add(StaffRecoveryCode(staff_user_id=user.id, code_hash=_recovery_digest(settings, raw)))
    db.flush()
    return codes


def check_code(
    db: Session, user: StaffUser, *, code: str, settings: Settings, now: datetime | None = None
) -> str:
    """The second step of a sign-in: a code from the app or an unused recovery code.
    Returns ``totp`` or ``recovery``; a wrong one counts (``TwoFactorWrong`` with the tries
    left, ``TwoFactorLocked`` on the last)."""
    now = now or utcnow()
    _lock_check(user)
    cleaned = _clean_code(code)
    secret = _secret(user, settings)
    if secret is not None and enabled(user) and _accept_totp(user, secret, cleaned, now):
        user.totp_failures = 0
        db.flush()
        return "totp"
    if len(cleaned) == 10 and enabled(user):
        recovery = db.scalar(
            select(StaffRecoveryCode).where(
                StaffRecoveryCode.staff_user_id == user.id,
                StaffRecoveryCode.code_hash == _recovery_digest(settings, cleaned),
                StaffRecoveryCode.used_at.is_(None),
            )
        )
        if recovery is not None:
            recovery.used_at = now
            user.totp_failures = 0
            db.flush()
            audit.record(
                db,
                actor=audit.Actor(name=f"staff:{user.username}", role=user.role),
                action="staff.two_factor.recovery_used",
                after={"username": user.username, "left": recovery_codes_left(db, user)},
            )
            return "recovery"
    _count_wrong(db, user, settings, now)


def recovery_codes_left(db: Session, user: StaffUser) -> int:
    return len(
        db.scalars(
            select(StaffRecoveryCode.id).where(
                StaffRecoveryCode.staff_user_id == user.id, StaffRecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def reset(db: Session, user: StaffUser, *, actor: audit.Actor) -> None:
    """An admin turns someone's second factor off (a lost phone) or unlocks it; they set
    it up again at their next sign-in if their role requires it."""
    before = {"enabled": enabled(user), "locked": user.totp_locked_at is not None}
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_failures = 0
    user.totp_locked_at = None
    user.totp_last_step = None
    db.execute(
        update(StaffRecoveryCode)
        .where(StaffRecoveryCode.staff_user_id == user.id, StaffRecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="staff.two_factor.reset",
        before={"username": user.username, **before},
        after={"username": user.username, "enabled": False, "locked": False},
    )
