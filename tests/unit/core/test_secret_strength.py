"""Production refuses a secret that was not drawn at random, however long it is."""

from __future__ import annotations

import secrets

import pytest
from pydantic import ValidationError

from kefu.config import Settings, random_enough


@pytest.mark.parametrize(
    "secret",
    [
        "a" * 32,
        "a" * 200,
        "ab" * 16,
        "abcdefghij" * 4,  # ten distinct characters, but a repeat
        "password" * 4,
        "0123456789abcdef" * 2,
        "short-but-random-9f8e7d",
    ],
)
def test_low_entropy_secrets_are_refused_in_production(secret: str) -> None:
    assert not random_enough(secret)
    with pytest.raises(ValidationError, match="KEFU_SECRET_KEY"):
        Settings(env="production", secret_key=secret)
    Settings(env="development", secret_key=secret)  # allowed while developing


@pytest.mark.parametrize("draw", [secrets.token_hex, secrets.token_urlsafe])
def test_random_secrets_are_accepted(draw: object) -> None:
    for _ in range(200):
        secret = draw(32)  # type: ignore[operator]
        assert random_enough(secret), secret
        Settings(env="production", secret_key=secret)
