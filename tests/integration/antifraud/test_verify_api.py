"""The public look-up: the issue's answer shape, the caller's language, bad input refused
with a reason, and floods stopped with a clear 429."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import staff_token

from kefu.config import Settings


def test_answer_shape_and_language(client: TestClient, seeded: Session) -> None:
    response = client.get(
        "/api/v1/verify", params={"value": "+86 400-800-9595"}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"value", "kind", "verdict", "reason", "advice"}
    assert (body["kind"], body["verdict"], body["value"]) == ("phone", "official", "400 800 9595")
    zh = client.get(
        "/api/v1/verify", params={"value": "kefu-wallet.com.cn.example.net", "lang": "zh-CN"}
    ).json()
    assert zh["verdict"] == "not_official"
    assert "仿冒" in zh["reason"]


def test_bad_values_get_a_reason_not_a_crash(client: TestClient, seeded: Session) -> None:
    cases = {
        "": "antifraud_empty_value",
        "   ": "antifraud_empty_value",
        "<script>alert(1)</script>": "antifraud_unrecognised_value",
        "x" * 3000: "antifraud_value_too_long",
        "http://-bad-.com": "antifraud_bad_web_address",
        "a@b": "antifraud_bad_email",
        "12": "antifraud_unrecognised_value",
    }
    for value, code in cases.items():
        response = client.get(
            "/api/v1/verify", params={"value": value}, headers={"Accept-Language": "en"}
        )
        assert response.status_code == 400, (value, response.text)
        error = response.json()["error"]
        assert error["code"] == code, value
        assert "script" not in error["message"] and "Traceback" not in response.text
    huge = client.get("/api/v1/verify", params={"value": "9" * 10_000})
    assert huge.status_code == 422
    assert client.get("/api/v1/verify").status_code == 400


def test_flood_is_refused_with_retry_after(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    limit = settings.antifraud_verify_per_minute
    for _ in range(limit):
        assert client.get("/api/v1/verify", params={"value": "95099"}).status_code == 200
    refused = client.get(
        "/api/v1/verify", params={"value": "95099"}, headers={"Accept-Language": "en"}
    )
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["error"]["code"] == "too_many_requests"


def test_staff_check_is_not_rate_limited_and_says_more(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    headers = {"Authorization": f"Bearer {staff_token(client, seeded)}", "Accept-Language": "en"}
    for _ in range(settings.antifraud_verify_per_minute + 2):
        response = client.get(
            "/api/v1/antifraud/check", params={"value": "kefu-wa11et.com.cn"}, headers=headers
        )
        assert response.status_code == 200
    body = response.json()
    assert body["imitation_of"] == "kefu-wallet.com.cn"
    assert body["verdict"] == "not_official"
