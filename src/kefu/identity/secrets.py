"""Hashing for passwords, codes and security answers (argon2) and for bearer tokens
(SHA-256).

Tokens are 256-bit random values, so a fast hash is enough to make a stolen table useless;
passwords, 6-digit codes and security answers are guessable and get argon2.
"""

from __future__ import annotations

import hashlib
import secrets
from functools import cache
from typing import Literal, NamedTuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kefu.config import get_settings


class _Hashers(NamedTuple):
    password: PasswordHasher
    code: PasswordHasher
    answer: PasswordHasher
    dummy_password: str
    dummy_answer: str


@cache
def _hashers(cost: Literal["strong", "fast"]) -> _Hashers:
    if cost == "fast":  # KEFU_HASHING=fast: tests only, refused in production
        light = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        password = code = answer = light
    else:
        password = PasswordHasher()
        # Codes live five minutes and allow five tries, so lighter parameters than
        # passwords suffice.
        code = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
        # Security answers live for years and have little entropy (a birth date, six
        # digits): the OWASP minimum for argon2id (19 MiB, two passes), about 30 ms a check.
        answer = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
    # Verifying for a user or an answer that does not exist costs as much as for one that
    # does, so response times do not reveal which usernames or answers exist.
    return _Hashers(
        password,
        code,
        answer,
        password.hash(secrets.token_urlsafe(16)),
        answer.hash(secrets.token_urlsafe(16)),
    )


def _current() -> _Hashers:
    return _hashers(get_settings().hashing_cost)


def hash_password(password: str) -> str:
    return _current().password.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """``password_hash`` None (no such user) is checked against a dummy hash of the same
    cost and fails."""
    hashers = _current()
    try:
        return hashers.password.verify(password_hash or hashers.dummy_password, password)
    except (VerificationError, InvalidHashError):
        return False


def hash_code(code: str) -> str:
    return _current().code.hash(code)


def verify_code(code_hash: str, code: str) -> bool:
    try:
        return _current().code.verify(code_hash, code)
    except (VerificationError, InvalidHashError):
        return False


def hash_answer(answer: str) -> str:
    return _current().answer.hash(answer)


def verify_answer(answer_hash: str | None, answer: str) -> bool:
    """``answer_hash`` None (no answer on file) is checked against a dummy hash and fails."""
    hashers = _current()
    try:
        return hashers.answer.verify(answer_hash or hashers.dummy_answer, answer)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_numeric_code(digits: int = 6) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(digits))
