"""The verification API end to end: what customers and staff are told, and what is never
shown or logged."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import staff_token
from tests.leaks import mentions, plain_text_columns_holding

from kefu.app import create_app
from kefu.channels.models import OutboxMessage
from kefu.config import Settings, get_settings
from kefu.db import get_db
from kefu.identity import service as identity_service
from kefu.identity.models import Customer

PHONE_A = "+8613800000001"
PHONE_B = "+8613800000002"
STARTED_KEYS = {"verification_id", "method", "destination", "expires_in", "resend_after"}


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every logger at DEBUG, set before the test's database connection opens so that
    SQLAlchemy's statement log is captured too."""
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.fixture
def customer_a(db: Session) -> Customer:
    return identity_service.create_customer(
        db, wallet_account_id="W-A", name="张伟", phone=PHONE_A, email="a@example.com"
    )


@pytest.fixture
def customer_b(db: Session) -> Customer:
    return identity_service.create_customer(
        db, wallet_account_id="W-B", name="李娜", phone=PHONE_B, language="en"
    )


def client_with(db: Session, settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    app.dependency_overrides[get_db] = lambda: db
    app.dependency_overrides[get_settings] = lambda: settings
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def demo_client(db: Session, settings: Settings) -> Iterator[TestClient]:
    yield from client_with(db, settings.model_copy(update={"demo": True}))


def last_code(db: Session, to: str) -> str:
    body = db.scalars(
        select(OutboxMessage.body)
        .where(OutboxMessage.destination == to)
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert body is not None
    found = re.search(r"\b\d{6}\b", body)
    assert found is not None
    return found.group()


def verify(client: TestClient, db: Session, phone: str) -> dict[str, str]:
    started = client.post("/api/v1/verifications", json={"contact": phone, "channel": "chat"})
    assert started.status_code == 202
    vid = started.json()["verification_id"]
    confirmed = client.post(
        f"/api/v1/verifications/{vid}/confirm", json={"code": last_code(db, phone)}
    )
    assert confirmed.status_code == 200, confirmed.text
    return {"Authorization": f"Bearer {confirmed.json()['access_token']}"}


def test_code_flow_never_shows_logs_or_stores_the_code(
    all_logs: pytest.LogCaptureFixture, client: TestClient, db: Session, customer_a: Customer
) -> None:
    responses = []
    started = client.post(
        "/api/v1/verifications", json={"contact": "138-0000-0001", "channel": "web"}
    )
    responses.append(started)
    assert started.status_code == 202
    body = started.json()
    assert set(body) == STARTED_KEYS
    assert body["method"] == "phone" and body["destination"] == "138****0001"
    assert (body["expires_in"], body["resend_after"]) == (300, 60)
    code = last_code(db, PHONE_A)
    vid = body["verification_id"]

    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    bad = client.post(
        f"/api/v1/verifications/{vid}/confirm",
        json={"code": wrong},
        headers={"Accept-Language": "zh-CN"},
    )
    responses.append(bad)
    assert bad.status_code == 400
    assert bad.json()["error"] == {
        "code": "code_invalid",
        "message": "验证码不正确，您还可以尝试 4 次。",
    }
    resent = client.post(f"/api/v1/verifications/{vid}/resend", headers={"Accept-Language": "en"})
    responses.append(resent)
    assert resent.status_code == 429
    assert resent.json()["error"]["code"] == "code_resend_too_soon"
    assert int(resent.headers["Retry-After"]) in range(55, 61)

    confirmed = client.post(
        f"/api/v1/verifications/{vid}/confirm", json={"code": code.translate(_FULL_WIDTH)}
    )
    responses.append(confirmed)
    assert confirmed.status_code == 200
    token = confirmed.json()
    assert token["token_type"] == "bearer" and token["expires_in"] == 1800
    assert token["verification"]["status"] == "verified"
    assert token["verification"]["failed_attempts"] == 1
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    me = client.get("/api/v1/me", headers=headers)
    mine = client.get("/api/v1/me/verifications", headers=headers)
    replay = client.post(f"/api/v1/verifications/{vid}/confirm", json={"code": code})
    responses += [me, mine, replay]
    assert me.json()["phone_masked"] == "138****0001"
    assert me.json()["email_masked"] == "a***@example.com"
    assert me.json()["verification"]["verification_id"] == vid
    assert [v["verification_id"] for v in mine.json()] == [vid]
    assert replay.status_code == 410

    for response in responses:
        assert not mentions(response.text, code)
    assert all_logs.records, "the flow should have logged something"
    assert "verification" in all_logs.text
    for record in all_logs.records:
        assert not mentions(record.getMessage(), code)
    assert plain_text_columns_holding(db, code) == ["outbox_message.body"]


_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def test_unknown_contact_gets_the_same_answer_and_nothing_is_sent(
    client: TestClient, db: Session, customer_a: Customer
) -> None:
    known = client.post("/api/v1/verifications", json={"contact": PHONE_A})
    unknown = client.post("/api/v1/verifications", json={"contact": "13900000009"})
    assert known.status_code == unknown.status_code == 202
    assert set(known.json()) == set(unknown.json()) == STARTED_KEYS
    assert unknown.json()["destination"] == "139****0009"
    assert db.scalars(select(OutboxMessage.destination)).all() == [PHONE_A]
    vid = unknown.json()["verification_id"]
    for _ in range(4):
        response = client.post(f"/api/v1/verifications/{vid}/confirm", json={"code": "123456"})
        assert response.json()["error"]["code"] == "code_invalid"
    locked = client.post(f"/api/v1/verifications/{vid}/confirm", json={"code": "123456"})
    assert locked.status_code == 423
    assert locked.json()["error"]["code"] == "verification_locked"


def test_five_wrong_codes_lock_even_the_right_one(
    client: TestClient, db: Session, customer_a: Customer
) -> None:
    vid = client.post("/api/v1/verifications", json={"contact": PHONE_A}).json()["verification_id"]
    code = last_code(db, PHONE_A)
    wrong = "000000" if code != "000000" else "111111"
    statuses = [
        client.post(f"/api/v1/verifications/{vid}/confirm", json={"code": wrong}).status_code
        for _ in range(5)
    ]
    assert statuses == [400, 400, 400, 400, 423]
    right = client.post(
        f"/api/v1/verifications/{vid}/confirm",
        json={"code": code},
        headers={"Accept-Language": "en"},
    )
    assert right.status_code == 423
    assert right.json()["error"]["message"].startswith("Too many wrong codes")


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"code": "12ab56"}, 400, "code"),
        ({"code": "1234567"}, 400, "code"),
        ({"code": "1" * 40}, 422, None),
        ({}, 422, None),
    ],
)
def test_code_format_is_checked_before_it_counts(
    client: TestClient,
    db: Session,
    customer_a: Customer,
    payload: dict[str, str],
    status: int,
    field: str | None,
) -> None:
    vid = client.post("/api/v1/verifications", json={"contact": PHONE_A}).json()["verification_id"]
    response = client.post(f"/api/v1/verifications/{vid}/confirm", json=payload)
    assert response.status_code == status
    assert set(response.json()["error"]) >= {"code", "message"}
    if field is not None:
        assert response.json()["error"]["field"] == field
    good = client.post(
        f"/api/v1/verifications/{vid}/confirm", json={"code": last_code(db, PHONE_A)}
    )
    assert good.json()["verification"]["failed_attempts"] == 0


def test_contact_is_validated(client: TestClient) -> None:
    not_contact = client.post("/api/v1/verifications", json={"contact": "hello"})
    assert not_contact.status_code == 400
    assert not_contact.json()["error"]["field"] == "contact"
    too_long = client.post("/api/v1/verifications", json={"contact": "1" * 255})
    assert too_long.status_code == 422
    bad_channel = client.post("/api/v1/verifications", json={"contact": PHONE_A, "channel": "x"})
    assert bad_channel.status_code == 422
    missing = client.post("/api/v1/verifications/does-not-exist/resend")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_body_lang_sets_the_reply_language(client: TestClient, customer_a: Customer) -> None:
    client.post("/api/v1/verifications", json={"contact": PHONE_A})
    again = client.post("/api/v1/verifications", json={"contact": PHONE_A, "lang": "en-US"})
    assert again.status_code == 429
    assert again.json()["error"]["message"].startswith("A code was just sent.")


def test_a_customer_sees_only_their_own_data(
    client: TestClient, db: Session, customer_a: Customer, customer_b: Customer
) -> None:
    token_a = verify(client, db, PHONE_A)
    verify(client, db, PHONE_B)
    me = client.get("/api/v1/me", headers=token_a).json()
    assert me["id"] == customer_a.id and me["name"] == "张伟"
    mine = client.get("/api/v1/me/verifications", headers=token_a).json()
    assert [v["destination"] for v in mine] == ["138****0001"]
    for path in (
        f"/api/v1/customers/{customer_b.id}/verifications",
        f"/api/v1/customers/{customer_b.id}",
    ):
        assert client.get(path, headers=token_a).status_code == 401
    assert client.get("/api/v1/me").status_code == 401


def test_staff_see_what_was_verified_masked_and_never_the_code(
    client: TestClient, db: Session, customer_a: Customer
) -> None:
    verify(client, db, PHONE_A)
    code = last_code(db, PHONE_A)
    headers = {"Authorization": f"Bearer {staff_token(client, db)}"}
    response = client.get(f"/api/v1/customers/{customer_a.id}/verifications", headers=headers)
    assert response.status_code == 200
    [row] = response.json()
    assert row["method"] == "phone" and row["channel"] == "chat"
    assert row["destination"] == "138****0001"
    assert row["status"] == "verified" and row["verified_at"]
    assert "13800000001" not in response.text and code not in response.text
    missing = client.get("/api/v1/customers/999999/verifications", headers=headers)
    assert missing.status_code == 404


def test_dev_outbox_page_exists_only_in_demo_mode(
    client: TestClient, demo_client: TestClient, db: Session, customer_a: Customer
) -> None:
    demo_client.post("/api/v1/verifications", json={"contact": PHONE_A})
    code = last_code(db, PHONE_A)
    page = demo_client.get("/dev/outbox?lang=zh-CN")
    assert page.status_code == 200
    assert "发件箱" in page.text and code in page.text and "138****0001" in page.text
    english = demo_client.get("/dev/outbox", params={"lang": "en", "to": "13900000009"})
    assert "Outbox" in english.text and "No messages have been sent yet." in english.text
    assert client.get("/dev/outbox").status_code == 404
