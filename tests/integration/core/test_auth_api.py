from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import STAFF_PASSWORD, make_customer, make_staff

from kefu.db import utcnow
from kefu.identity import service as identity_service
from kefu.identity.models import AccessToken, StaffUser


def _login(client: TestClient, username: str, password: str = STAFF_PASSWORD) -> dict:
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def test_token_for_right_password(client: TestClient, db: Session) -> None:
    user = make_staff(db, "supervisor")
    response = _login(client, user.username)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] > 0
    me = client.get("/api/v1/staff/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == user.username
    assert "audit.read" in me.json()["permissions"]
    assert "password_hash" not in me.text


def test_token_is_stored_only_as_a_digest(client: TestClient, db: Session) -> None:
    user = make_staff(db)
    token = _login(client, user.username).json()["access_token"]
    stored = db.scalars(select(AccessToken.token_hash)).all()
    assert token not in stored
    assert all(len(h) == 64 for h in stored)


def test_password_stored_with_argon2(db: Session) -> None:
    user = make_staff(db)
    assert user.password_hash.startswith("$argon2id$")
    assert STAFF_PASSWORD not in user.password_hash


def test_wrong_password_and_unknown_user_look_the_same(client: TestClient, db: Session) -> None:
    user = make_staff(db)
    wrong = _login(client, user.username, "not-the-password")
    unknown = _login(client, "nobody-here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "invalid_credentials"


def test_wrong_passwords_are_throttled(client: TestClient, db: Session, settings) -> None:
    user = make_staff(db)
    for _ in range(settings.login_max_failures):
        assert _login(client, user.username, "wrong-password!").status_code == 401
    blocked = _login(client, user.username)  # even the right password waits now
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "too_many_requests"
    assert int(blocked.headers["Retry-After"]) > 0


def test_throttle_lifts_after_the_window(db: Session, settings) -> None:
    user = make_staff(db)
    past = utcnow() - timedelta(seconds=settings.login_failure_window_seconds + 5)
    for _ in range(settings.login_max_failures):
        assert (
            identity_service.authenticate_staff(
                db,
                username=user.username,
                password="wrong-password!",
                client_ip=None,
                max_failures=settings.login_max_failures,
                window_seconds=settings.login_failure_window_seconds,
                now=past,
            )
            is None
        )
    ok = identity_service.authenticate_staff(
        db,
        username=user.username,
        password=STAFF_PASSWORD,
        client_ip=None,
        max_failures=settings.login_max_failures,
        window_seconds=settings.login_failure_window_seconds,
    )
    assert ok is not None and ok.id == user.id


def test_expired_and_revoked_tokens_are_refused(client: TestClient, db: Session) -> None:
    user = make_staff(db)
    issued = identity_service.issue_token(
        db, kind="api", ttl_seconds=60, staff_user_id=user.id, now=utcnow() - timedelta(hours=1)
    )
    response = client.get("/api/v1/staff/me", headers={"Authorization": f"Bearer {issued.token}"})
    assert response.status_code == 401
    token = _login(client, user.username).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/staff/me", headers=headers).status_code == 401


def test_a_staff_token_is_found_with_its_staff_member_and_only_for_its_kind(db: Session) -> None:
    user = make_staff(db)
    api = identity_service.issue_token(db, kind="api", ttl_seconds=60, staff_user_id=user.id)
    found = identity_service.resolve_staff_token(db, api.token, kinds={"api"})
    assert found is not None and found[1].id == user.id and found[0].staff_user_id == user.id
    assert identity_service.resolve_staff_token(db, api.token, kinds={"session"}) is None
    customer = identity_service.issue_token(
        db, kind="customer", ttl_seconds=60, customer_id=make_customer(db).id
    )
    # a customer's token names no staff member, whatever kinds are asked for
    assert identity_service.resolve_staff_token(db, customer.token, kinds={"customer"}) is None
    assert identity_service.resolve_staff_token(db, "no-such-token", kinds={"api"}) is None


def test_deactivated_staff_lose_access(client: TestClient, db: Session) -> None:
    user = make_staff(db)
    token = _login(client, user.username).json()["access_token"]
    db.get(StaffUser, user.id).is_active = False
    db.flush()
    assert (
        client.get("/api/v1/staff/me", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )


def test_admin_creates_staff_and_it_is_audited(client: TestClient, db: Session) -> None:
    admin = make_staff(db, "admin")
    token = _login(client, admin.username).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    created = client.post(
        "/api/v1/staff",
        json={"username": "new_agent", "password": "a-long-password", "role": "agent"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["role"] == "agent"
    again = client.post(
        "/api/v1/staff",
        json={"username": "new_agent", "password": "a-long-password", "role": "agent"},
        headers=headers,
    )
    assert again.status_code == 409
    short = client.post(
        "/api/v1/staff",
        json={"username": "other", "password": "short", "role": "agent"},
        headers={**headers, "Accept-Language": "en"},
    )
    assert short.status_code == 400
    assert short.json()["error"]["field"] == "password"
    audit_rows = client.get("/api/v1/audit?action=staff.create", headers=headers).json()
    assert any(
        row["actor"] == f"staff:{admin.username}" and "new_agent" in row["after"]
        for row in audit_rows
    )


def test_validation_errors_use_the_error_shape(client: TestClient) -> None:
    response = client.post("/api/v1/auth/token", json={"username": ""})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert {d["field"] for d in response.json()["error"]["details"]} >= {"username", "password"}


def test_customer_list_masks_contact_details(client: TestClient, db: Session) -> None:
    from tests.factories import make_customer, staff_token

    customer = make_customer(db)
    headers = {"Authorization": f"Bearer {staff_token(client, db, 'agent')}"}
    rows = client.get("/api/v1/customers", params={"q": customer.name}, headers=headers).json()
    assert [r["id"] for r in rows] == [customer.id]
    assert customer.phone[3:] not in str(rows)
    assert rows[0]["phone_masked"].count("*") == 4
    assert customer.email not in str(rows)
    assert client.get("/api/v1/customers/999999", headers=headers).status_code == 404
