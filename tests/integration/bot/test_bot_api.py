"""``POST /api/v1/bot/messages``: the contract, conversations that continue, bad input."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import customer_token
from tests.integration.bot.test_flows import customer as demo_customer

from kefu.app import create_app
from kefu.config import Settings, get_settings
from kefu.db import get_db

CONTRACT = {"conversation_id", "intent", "confidence", "reply", "handoff"}


@pytest.fixture
def api(demo_db: Session, settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)

    def _db() -> Iterator[Session]:
        yield demo_db

    app.dependency_overrides[get_db] = _db
    app.dependency_overrides[get_settings] = lambda: settings
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_contract_and_a_conversation_that_continues(api: TestClient) -> None:
    first = api.post("/api/v1/bot/messages", json={"text": "充值没到账"})
    assert first.status_code == 200
    body = first.json()
    assert set(body) >= CONTRACT
    assert body["intent"] == "recharge_not_credited"
    assert 0 <= body["confidence"] <= 1
    assert body["handoff"] is False
    second = api.post(
        "/api/v1/bot/messages",
        json={"conversation_id": body["conversation_id"], "text": "500元"},
    )
    assert second.status_code == 200
    assert second.json()["conversation_id"] == body["conversation_id"]
    history = api.get(f"/api/v1/bot/conversations/{body['conversation_id']}/messages")
    assert [m["sender"] for m in history.json()] == ["customer", "bot", "customer", "bot"]
    said = [datetime.fromisoformat(m["created_at"]) for m in history.json()]
    assert said == sorted(said) and all(at.tzinfo is not None for at in said)


def test_language_follows_the_request(api: TestClient) -> None:
    body = api.post("/api/v1/bot/messages", json={"text": "hello", "lang": "en"}).json()
    assert body["intent"] == "greeting"
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in body["reply"])


def test_handoff_on_request(api: TestClient) -> None:
    body = api.post("/api/v1/bot/messages", json={"text": "转人工"}).json()
    assert body["handoff"] is True
    assert body["status"] == "queued"


@pytest.mark.parametrize(
    "payload",
    [
        {"text": ""},
        {"text": "   "},
        {},
        {"text": 5},
        {"text": "x" * 100_000},
        {"text": "\x00\x01\x02"},  # NUL is refused at the edge (kefu.edge)
    ],
)
def test_bad_messages_are_refused_clearly(api: TestClient, payload: dict[str, object]) -> None:
    response = api.post("/api/v1/bot/messages", json=payload)
    assert 400 <= response.status_code < 500
    assert "error" in response.json()


@pytest.mark.parametrize("text", ["😀😀😀", "\x01\x02 \x7f", "' OR 1=1; --", "<script>x</script>"])
def test_junk_gets_a_polite_reply(api: TestClient, text: str) -> None:
    response = api.post("/api/v1/bot/messages", json={"text": text})
    assert response.status_code == 200
    assert response.json()["reply"]


def test_unknown_conversation_is_404(api: TestClient) -> None:
    response = api.post(
        "/api/v1/bot/messages", json={"conversation_id": "nosuchconversation", "text": "你好"}
    )
    assert response.status_code == 404


def test_another_customers_conversation_is_not_found(api: TestClient, demo_db: Session) -> None:
    alice, bob = demo_customer(demo_db, 15), demo_customer(demo_db, 16)
    started = api.post(
        "/api/v1/bot/conversations",
        json={},
        headers={"Authorization": f"Bearer {customer_token(demo_db, alice)}"},
    ).json()
    response = api.post(
        "/api/v1/bot/messages",
        json={"conversation_id": started["conversation_id"], "text": "你好"},
        headers={"Authorization": f"Bearer {customer_token(demo_db, bob)}"},
    )
    assert response.status_code == 404
