"""Identity tables. Secrets (passwords, codes, tokens) are only ever stored hashed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db import Base, UtcDateTime, utcnow


class Customer(Base):
    """A wallet holder. ``wallet_account_id`` is the id in the wallet core (built-in or the
    company's own), so no foreign key crosses the wallet port."""

    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    wallet_account_id: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)  # E.164
    email: Mapped[str | None] = mapped_column(String(254), unique=True)  # lower-case
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class StaffUser(Base):
    """A member of staff. An invited one has no usable password until they follow their
    set-password link. ``totp_secret`` is encrypted with a key derived from
    ``KEFU_SECRET_KEY`` (``identity/two_factor.py``); ``version`` counts admin edits, so an
    edit made on a stale copy is refused."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)  # lower-case
    team: Mapped[str | None] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer, default=1)
    totp_secret: Mapped[str | None] = mapped_column(String(200))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    totp_failures: Mapped[int] = mapped_column(Integer, default=0)
    totp_locked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)  # the last code's time step


class StaffRecoveryCode(Base):
    """A single-use code that stands in for the authenticator app, shown once when two-factor
    sign-in is set up; only its keyed hash is kept (the codes are random, so a fast hash
    is enough)."""

    __tablename__ = "staff_recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class StaffPasswordLink(Base):
    """A set-password link sent by e-mail (an invitation or a reset): single use, expiring;
    only the SHA-256 of its token is stored. A newer link for the same person retires
    the older ones."""

    __tablename__ = "staff_password_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(8))  # invite | reset
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AccessToken(Base):
    """Bearer tokens for the API and cookie sessions for the console, for staff and for
    verified customers. Only the SHA-256 of the token is stored."""

    __tablename__ = "access_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "api" | "session" | "customer"
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    verification_id: Mapped[int | None] = mapped_column(ForeignKey("verification.id"))
    csrf_token: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class LoginAttempt(Base):
    """Failed staff logins, kept in the database so every app process throttles alike."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_username_at", "username", "attempted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    attempted_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OneTimeCode(Base):
    """One 6-digit code sent to a destination. ``verification_id`` ties it to the
    verification it proves; wrong tries are counted on the verification. ``destination`` is
    a keyed hash of the phone or e-mail (see ``identity/otp.py``), enough to rate-limit per
    destination without keeping the numbers of people who are not customers."""

    __tablename__ = "one_time_code"
    __table_args__ = (Index("ix_one_time_code_destination_sent", "destination", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    verification_id: Mapped[int] = mapped_column(ForeignKey("verification.id"), index=True)
    destination: Mapped[str] = mapped_column(String(254))
    code_hash: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Verification(Base):
    """An attempt by a customer to prove who they are, and once proven, for how long.

    ``method`` is what is being proven (``phone``, ``email``, ``security_questions``),
    ``channel`` where the customer is (``web``, ``chat``, ``voice``, ``email``, ``wechat``).
    For security questions, ``questions`` names the ones asked (comma-separated ids, in
    order) and ``round_marks`` whether each answer of the round under way matched (``y`` /
    ``n``): the caller is told only once the whole round is answered, never which answer
    was wrong (``identity/questions.py``).
    """

    __tablename__ = "verification"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    # None when the phone or e-mail given belongs to no customer: the caller is told the
    # same as for a registered one, so the API does not reveal who is a customer.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    method: Mapped[str] = mapped_column(String(24))
    channel: Mapped[str] = mapped_column(String(16))
    destination_masked: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16))  # pending | verified | locked | expired
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    locked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    questions: Mapped[str | None] = mapped_column(String(120))
    round_marks: Mapped[str | None] = mapped_column(String(8))


class SecurityAnswer(Base):
    """A customer's answer to one security question, only ever as an argon2 hash of the
    normalised answer; kept until the customer sets it again."""

    __tablename__ = "security_answer"
    __table_args__ = (UniqueConstraint("customer_id", "question"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    question: Mapped[str] = mapped_column(String(24))
    answer_hash: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(UtcDateTime)
