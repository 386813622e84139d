"""The argon2 cost: strong unless the test suite asks for fast, never fast in production,
and a hash of either cost verifies under the other (a database moved between them keeps
working)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kefu.config import Settings, get_settings
from kefu.identity import secrets as kefu_secrets

STRONG_SECRET = "Vq3Zr8LxN2pT7wYb5KmH1cJd9FgS4aE6"


def test_strong_by_default_and_fast_only_for_tests() -> None:
    assert Settings(env="development").hashing_cost == "strong"
    assert Settings(env="production", secret_key=STRONG_SECRET).hashing_cost == "strong"
    assert Settings(env="test").hashing_cost == "fast"
    assert Settings(env="test", hashing="strong").hashing_cost == "strong"


def test_production_refuses_fast_hashing() -> None:
    with pytest.raises(ValidationError, match="KEFU_HASHING=fast"):
        Settings(env="production", secret_key=STRONG_SECRET, hashing="fast")


def test_hashes_of_either_cost_verify_under_the_other(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_HASHING", "strong")
    get_settings.cache_clear()
    strong = kefu_secrets.hash_password("correct horse")
    strong_answer = kefu_secrets.hash_answer("19900101")
    assert "m=65536" in strong
    monkeypatch.setenv("KEFU_HASHING", "fast")
    get_settings.cache_clear()
    fast = kefu_secrets.hash_password("correct horse")
    assert "m=1024" in fast
    for stored in (strong, fast):
        assert kefu_secrets.verify_password(stored, "correct horse")
        assert not kefu_secrets.verify_password(stored, "wrong horse")
    assert kefu_secrets.verify_answer(strong_answer, "19900101")
    assert not kefu_secrets.verify_password(None, "correct horse")
    assert not kefu_secrets.verify_answer(None, "19900101")
    monkeypatch.delenv("KEFU_HASHING")
    get_settings.cache_clear()
