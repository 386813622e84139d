"""The effective settings page: every KEFU_* setting with its value, secrets never shown,
passwords in URLs masked, read-only, for admins only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import make_staff
from tests.integration.identity.test_staff_admin import sign_in

from kefu.config import Settings, get_settings
from kefu.web.settings_page import is_secret, masked_url

SECRETS = {
    "secret_key": "s3cr3t-key-value-that-is-long-enough-xyz",
    "imap_password": "imap-pass-9876",
    "wechat_app_secret": "wx-app-secret-5555",
    "voice_auth_token": "twilio-token-4444",
    "wechat_token": "wx-token-3333",
}


@pytest.fixture
def secret_app(app: FastAPI, settings: Settings) -> Iterator[FastAPI]:
    loaded = settings.model_copy(
        update={**SECRETS, "redis_url": "redis://:redis-pass-2222@cache.internal:6379/0"}
    )
    app.dependency_overrides[get_settings] = lambda: loaded
    yield app


def test_secrets_never_show(secret_app: FastAPI, db: Session) -> None:
    admin = make_staff(db, "admin")
    db.commit()
    with TestClient(secret_app) as client:
        sign_in(client, admin.username)
        page = client.get("/console/settings")
    assert page.status_code == 200
    for value in [*SECRETS.values(), "redis-pass-2222"]:
        assert value not in page.text
    assert "redis://:****@cache.internal:6379/0" in page.text
    assert "KEFU_SECRET_KEY" in page.text and "已设置（已隐藏）" in page.text
    assert "KEFU_TOKEN_TTL_SECONDS" in page.text and "28800" in page.text  # not a secret
    assert "<form" not in page.text.split("<main", 1)[1].split("</main>")[0]  # read-only


def test_which_names_are_secrets() -> None:
    assert all(is_secret(name) for name in SECRETS)
    assert not is_secret("token_ttl_seconds") and not is_secret("app_token_max_ttl_seconds")
    assert (
        masked_url("postgresql+psycopg://kefu:pw@db/kefu")
        == "postgresql+psycopg://kefu:****@db/kefu"
    )
    assert masked_url("sqlite:///var/kefu.db") == "sqlite:///var/kefu.db"


def test_supervisors_may_not_read_settings(client: TestClient, db: Session) -> None:
    supervisor = make_staff(db, "supervisor")
    db.commit()
    sign_in(client, supervisor.username)
    page = client.get("/console/settings")
    assert page.status_code == 403 and "没有权限" in page.text
