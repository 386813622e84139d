from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from kefu.i18n import translate


def test_healthz_answers_and_carries_the_request_headers(client: TestClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "probe-1"})
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["X-Request-ID"] == "probe-1"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    made = client.get("/healthz", headers={"X-Request-ID": "x" * 65}).headers["X-Request-ID"]
    assert len(made) == 32 and made != "x" * 65  # too long to echo: a new one


def test_readyz_checks_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_says_when_the_database_is_gone(app: FastAPI) -> None:
    from kefu.db import get_db

    def broken() -> Iterator[Session]:
        session = Session(bind=create_engine("sqlite:////nonexistent/dir/kefu.db"))
        try:
            yield session
        finally:
            session.close()

    app.dependency_overrides[get_db] = broken
    with TestClient(app) as client:
        response = client.get("/readyz", headers={"Accept-Language": "en"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"
    assert response.json()["error"]["message"] == translate("error.database", "en")


def test_a_language_chosen_in_the_query_sticks_in_a_cookie(client: TestClient) -> None:
    chosen = client.get("/no/such/page?lang=en", headers={"Accept-Language": "zh-CN"})
    assert chosen.json()["error"]["message"] == "Nothing was found."
    assert "kefu_lang=en" in chosen.headers["set-cookie"]
    later = client.get("/no/such/page", headers={"Accept-Language": "zh-CN"})
    assert later.json()["error"]["message"] == "Nothing was found."


def test_openapi_is_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/auth/token" in spec["paths"]


def test_unknown_route_uses_error_shape_in_request_language(client: TestClient) -> None:
    zh = client.get("/no/such/page", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    en = client.get("/no/such/page", headers={"Accept-Language": "en-US,en;q=0.8"})
    assert zh.status_code == en.status_code == 404
    assert zh.json()["error"]["code"] == "not_found"
    assert zh.json()["error"]["message"] == "未找到相关内容。"
    assert en.json()["error"]["message"] == "Nothing was found."
