"""Hashing for passwords, codes and security answers (argon2) and for bearer tokens
(SHA-256).

Tokens are 256-bit random values, so a fast hash is enough to make a stolen table useless;
passwords, 6-digit codes and security answers are guessable and get argon2.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Codes live five minutes and allow five tries, so lighter parameters than passwords suffice.
_password_hasher = PasswordHasher()
_code_hasher = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
# Security answers live for years and have little entropy (a birth date, six digits): the
# OWASP minimum for argon2id (19 MiB, two passes), about 30 ms a check.
_answer_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def hash_password(password: str) -> str:
    return _password_hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def hash_code(code: str) -> str:
    return _code_hasher.hash(code)


def verify_code(code_hash: str, code: str) -> bool:
    try:
        return _code_hasher.verify(code_hash, code)
    except (VerificationError, InvalidHashError):
        return False


def hash_answer(answer: str) -> str:
    return _answer_hasher.hash(answer)


def verify_answer(answer_hash: str, answer: str) -> bool:
    try:
        return _answer_hasher.verify(answer_hash, answer)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_numeric_code(digits: int = 6) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(digits))


# Verifying a password for a user that does not exist costs as much as for one that does,
# so response times do not reveal which usernames exist.
DUMMY_PASSWORD_HASH = _password_hasher.hash(secrets.token_urlsafe(16))
# Likewise for a security answer checked for an account that has none.
DUMMY_ANSWER_HASH = _answer_hasher.hash(secrets.token_urlsafe(16))
