"""Two-factor sign-in for staff: set up with a first code, recovery codes shown once and
stored hashed, the sign-in's second step, five wrong codes lock it (as for one-time codes),
a code cannot be replayed, the API asks for the code too, and the setting that requires it
of supervisors and admins."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import STAFF_PASSWORD, make_staff
from tests.integration.identity.test_staff_admin import sign_in

from kefu.config import Settings, get_settings
from kefu.db import utcnow
from kefu.identity import two_factor
from kefu.identity.errors import TwoFactorLocked, TwoFactorWrong
from kefu.identity.models import StaffRecoveryCode, StaffUser

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _secret_of(uri: str) -> str:
    found = re.search(r"secret=([A-Z2-7]+)", uri)
    assert found
    return found.group(1)


def _enable(db: Session, user: StaffUser, settings: Settings) -> tuple[str, list[str]]:
    """Set up two minutes ago, so the codes of now are fresh for the sign-ins tested."""
    secret = _secret_of(two_factor.begin_setup(db, user, settings=settings))
    then = utcnow() - timedelta(minutes=2)
    codes = two_factor.confirm_setup(
        db, user, code=pyotp.TOTP(secret).at(then), settings=settings, now=then
    )
    db.commit()
    return secret, codes


def _code_step(client: TestClient, username: str) -> str:
    form = client.get("/console/login")
    response = client.post(
        "/console/login",
        data={
            "username": username,
            "password": STAFF_PASSWORD,
            "csrf_token": _CSRF.search(form.text).group(1),  # type: ignore[union-attr]
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/console/login/code"
    assert "kefu_session" not in response.headers.get("set-cookie", "")
    step = client.get("/console/login/code")
    return _CSRF.search(step.text).group(1)  # type: ignore[union-attr]


def test_setup_keeps_the_secret_encrypted_and_recovery_codes_hashed(
    db: Session, settings: Settings
) -> None:
    user = make_staff(db, "supervisor")
    secret, codes = _enable(db, user, settings)
    assert two_factor.enabled(user)
    assert secret not in (user.totp_secret or "")
    assert len(codes) == two_factor.RECOVERY_CODES == len(set(codes))
    stored = db.scalars(
        select(StaffRecoveryCode.code_hash).where(StaffRecoveryCode.staff_user_id == user.id)
    ).all()
    assert all(code.replace("-", "") not in stored for code in codes)
    assert len(stored) == len(codes)


def test_signing_in_takes_the_app_code_and_five_wrong_codes_lock(
    client: TestClient, db: Session, settings: Settings
) -> None:
    user = make_staff(db, "supervisor")
    secret, _codes = _enable(db, user, settings)
    csrf = _code_step(client, user.username)
    for remaining in (4, 3, 2, 1):
        wrong = client.post("/console/login/code", data={"code": "000000", "csrf_token": csrf})
        assert wrong.status_code == 401
        assert f"还可以再试 {remaining} 次" in wrong.text
        csrf = _CSRF.search(wrong.text).group(1)  # type: ignore[union-attr]
    locked = client.post("/console/login/code", data={"code": "000000", "csrf_token": csrf})
    assert locked.status_code == 423 and "已被锁定" in locked.text
    # locked: even the right code and a fresh password step do not get in
    csrf = _code_step(client, user.username)
    right = client.post(
        "/console/login/code", data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf}
    )
    assert right.status_code == 423
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_the_right_code_signs_in_once_and_cannot_be_replayed(
    client: TestClient, db: Session, settings: Settings
) -> None:
    user = make_staff(db, "admin")
    secret, _codes = _enable(db, user, settings)
    code = pyotp.TOTP(secret).now()
    csrf = _code_step(client, user.username)
    response = client.post(
        "/console/login/code", data={"code": code, "csrf_token": csrf}, follow_redirects=False
    )
    assert response.status_code == 303
    assert client.get("/console").status_code == 200
    client.cookies.clear()
    csrf = _code_step(client, user.username)
    replayed = client.post("/console/login/code", data={"code": code, "csrf_token": csrf})
    assert replayed.status_code == 401


def test_a_recovery_code_works_once(db: Session, settings: Settings) -> None:
    user = make_staff(db, "supervisor")
    _secret, codes = _enable(db, user, settings)
    assert two_factor.check_code(db, user, code=codes[0].lower(), settings=settings) == "recovery"
    assert two_factor.recovery_codes_left(db, user) == len(codes) - 1
    with pytest.raises(TwoFactorWrong):
        two_factor.check_code(db, user, code=codes[0], settings=settings)


def test_an_admin_unlocks(db: Session, settings: Settings) -> None:
    user, admin = make_staff(db, "supervisor"), make_staff(db, "admin")
    _enable(db, user, settings)
    for _ in range(settings.otp_max_attempts - 1):
        with pytest.raises(TwoFactorWrong):
            two_factor.check_code(db, user, code="123456", settings=settings)
    with pytest.raises(TwoFactorLocked):
        two_factor.check_code(db, user, code="123456", settings=settings)
    from kefu import audit

    two_factor.reset(db, user, actor=audit.Actor(name=f"staff:{admin.username}", role="admin"))
    assert user.totp_locked_at is None and not two_factor.enabled(user)


@pytest.fixture
def required_app(app: FastAPI, settings: Settings) -> Iterator[FastAPI]:
    strict = settings.model_copy(update={"staff_two_factor_from": "supervisor"})
    app.dependency_overrides[get_settings] = lambda: strict
    app.state.settings = strict
    yield app


def test_the_setting_sends_supervisors_to_set_it_up(
    required_app: FastAPI, db: Session, settings: Settings
) -> None:
    supervisor, agent = make_staff(db, "supervisor"), make_staff(db, "agent")
    db.commit()
    with TestClient(required_app) as client:
        token = client.post(
            "/api/v1/auth/token",
            json={"username": supervisor.username, "password": STAFF_PASSWORD},
        )
        assert token.status_code == 403
        assert token.json()["error"]["code"] == "two_factor_setup_required"
        form = client.get("/console/login")
        client.post(
            "/console/login",
            data={
                "username": supervisor.username,
                "password": STAFF_PASSWORD,
                "csrf_token": _CSRF.search(form.text).group(1),  # type: ignore[union-attr]
            },
        )
        home = client.get("/console/queues", follow_redirects=False)
        assert home.status_code == 303 and home.headers["location"] == "/console/two-factor"
        page = client.get("/console/two-factor")
        assert "您的角色需要先设置两步验证" in page.text
        csrf = _CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        setup = client.post("/console/two-factor/setup", data={"csrf_token": csrf})
        secret = re.search(r"secret=([A-Z2-7]+)", setup.text)
        assert secret
        wrong = client.post(
            "/console/two-factor/confirm", data={"code": "000000", "csrf_token": csrf}
        )
        assert wrong.status_code == 401 and "还可以再试 4 次" in wrong.text
        on = client.post(
            "/console/two-factor/confirm",
            data={"code": pyotp.TOTP(secret.group(1)).now(), "csrf_token": csrf},
        )
        assert on.status_code == 200 and "恢复码" in on.text
        assert len(re.findall(r"<code>[A-Z2-9]{5}-[A-Z2-9]{5}</code>", on.text)) == 10
        assert client.get("/console/queues").status_code == 200
        # an agent is not required to
        assert sign_in(client, agent.username)


def test_the_api_asks_for_the_code(client: TestClient, db: Session, settings: Settings) -> None:
    user = make_staff(db, "admin")
    secret, _codes = _enable(db, user, settings)
    body = {"username": user.username, "password": STAFF_PASSWORD}
    missing = client.post("/api/v1/auth/token", json=body)
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "two_factor_needed"
    wrong = client.post("/api/v1/auth/token", json={**body, "code": "999999"})
    assert wrong.json()["error"]["code"] == "two_factor_wrong"
    code = pyotp.TOTP(secret).now()
    right = client.post("/api/v1/auth/token", json={**body, "code": code})
    assert right.status_code == 200, right.text
    replayed = client.post("/api/v1/auth/token", json={**body, "code": code})
    assert replayed.status_code == 401
