"""The edge (kefu.edge), for every route at once: NUL characters in any text a request
carries are refused with a reason before a route or a database sees them, bodies larger
than their kind allows get 413 before they are read, and every answer carries the browser
protections."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories import STAFF_PASSWORD, make_staff, staff_token

from kefu.antifraud.models import ScamReport
from kefu.config import Settings
from kefu.edge import has_nul_text

NUL_TEXTS = ["\x00", "a\x00b", "客服\x00", "\x00" * 3]


def _assert_nul_refused(response: object) -> None:
    assert response.status_code == 400, response.text  # type: ignore[attr-defined]
    assert response.json()["error"]["code"] == "nul_character"  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", NUL_TEXTS)
def test_nul_in_json_is_refused_on_anonymous_and_staff_routes(
    client: TestClient, db: Session, text: str
) -> None:
    _assert_nul_refused(client.post("/api/v1/auth/token", json={"username": text, "password": "x"}))
    token = staff_token(client, db, "admin")
    _assert_nul_refused(
        client.post(
            "/api/v1/staff",
            json={"username": f"u{text}", "password": STAFF_PASSWORD, "role": "agent"},
            headers={"Authorization": f"Bearer {token}"},
        )
    )
    # nested anywhere, keys too
    _assert_nul_refused(client.post("/api/v1/bot/conversations", json={"x": {text: [1]}}))


def test_an_escaped_backslash_before_u0000_is_not_a_nul() -> None:
    assert has_nul_text("application/json", json.dumps({"a": "\x00"}).encode())
    assert not has_nul_text("application/json", json.dumps({"a": "\\u0000"}).encode())
    assert has_nul_text("application/json", json.dumps({"a": "\\\x00"}).encode())


@pytest.mark.parametrize("text", NUL_TEXTS)
def test_nul_in_forms_and_query_strings_is_refused(
    client: TestClient, db: Session, text: str
) -> None:
    login = client.post(
        "/console/login", data={"username": text, "password": "x", "csrf_token": "x"}
    )
    assert login.status_code == 400
    assert "空字符" in login.text  # the console shows the reason as a page
    report = client.post(
        "/api/v1/antifraud/reports",
        files={"description": (None, f"骗子{text}"), "contact": (None, "13800000000")},
    )
    _assert_nul_refused(report)
    assert db.scalar(select(func.count()).select_from(ScamReport)) == 0
    _assert_nul_refused(client.get("/api/v1/verify", params={"value": text}))
    _assert_nul_refused(client.get("/api/v1/faq/a%00b"))


def test_a_file_may_hold_nul_bytes(client: TestClient, db: Session) -> None:
    report = client.post(
        "/api/v1/antifraud/reports",
        data={"description": "有人冒充客服", "channel_value": "13800000000"},
        files={"screenshot": ("a.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png")},
    )
    assert report.status_code != 400 or report.json()["error"]["code"] != "nul_character"


@pytest.fixture
def small_limits(settings: Settings) -> Iterator[Settings]:
    limited = settings.model_copy(
        update={
            "max_json_bytes": 2048,
            "max_form_bytes": 3072,
            "max_upload_bytes": 8192,
            "max_webhook_bytes": 1024,
        }
    )
    yield limited


@pytest.fixture
def limited_client(app: FastAPI, small_limits: Settings) -> Iterator[TestClient]:
    from kefu.app import create_app
    from kefu.config import get_settings
    from kefu.db import get_db

    limited = create_app(small_limits)
    limited.dependency_overrides[get_db] = app.dependency_overrides[get_db]
    limited.dependency_overrides[get_settings] = lambda: small_limits
    with TestClient(limited, raise_server_exceptions=False) as test_client:
        yield test_client


def test_bodies_over_their_kind_s_limit_get_413(limited_client: TestClient) -> None:
    big_json = json.dumps({"username": "x" * 3000, "password": "y"})
    response = limited_client.post(
        "/api/v1/auth/token", content=big_json, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    # under the JSON limit: reaches the route
    assert limited_client.post("/api/v1/auth/token", json={"username": "x"}).status_code == 422
    form = {"username": "x" * 2500, "password": "y", "csrf_token": "z"}
    assert limited_client.post("/console/login", data=form).status_code != 413
    form["username"] = "x" * 4000
    assert limited_client.post("/console/login", data=form).status_code == 413
    upload = limited_client.post(
        "/api/v1/antifraud/reports",
        data={"description": "x"},
        files={"screenshot": ("a.png", b"\x89PNG" + b"0" * 9000, "image/png")},
    )
    assert upload.status_code == 413
    webhook = limited_client.post("/sms/incoming", data={"Body": "x" * 2000})
    assert webhook.status_code == 413


def test_a_declared_length_over_the_limit_is_refused_before_reading(
    limited_client: TestClient,
) -> None:
    """The client says 300 MB: nothing is read (the body sent is small, and never looked at)."""
    response = limited_client.post(
        "/api/v1/auth/token",
        content=b"{}",
        headers={"Content-Type": "application/json", "Content-Length": str(300 * 1024 * 1024)},
    )
    assert response.status_code == 413


def test_a_streamed_body_is_counted_as_it_is_read(limited_client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"username": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    response = limited_client.post(
        "/api/v1/auth/token", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_a_length_that_is_not_a_number_is_refused(client: TestClient) -> None:
    for length in ("١٢".encode(), b"2e1", b"-2"):
        response = client.post(
            "/api/v1/auth/token", content=b"{}", headers={"Content-Length": length}
        )
        assert response.status_code == 400


def test_every_answer_carries_the_browser_protections(client: TestClient) -> None:
    for path in ("/help", "/console/login", "/api/v1/faq", "/chat", "/no-such-page"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("style-src")[0]
        assert "frame-ancestors 'self'" in csp
        assert headers["x-frame-options"] == "SAMEORIGIN"
        assert headers["x-content-type-options"] == "nosniff"
        assert "strict-transport-security" not in headers  # plain http, no trusted proxy


def test_hsts_over_https_and_behind_a_trusted_proxy_only(settings: Settings) -> None:
    from kefu.app import create_app

    app = create_app(settings)
    with TestClient(app, base_url="https://kefu.test") as https_client:
        assert "max-age=" in https_client.get("/healthz").headers["strict-transport-security"]
    proxied = settings.model_copy(update={"trusted_proxies": "testclient"})
    with TestClient(create_app(proxied)) as behind_proxy:
        said_https = behind_proxy.get("/healthz", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" in said_https.headers
        assert "strict-transport-security" not in behind_proxy.get("/healthz").headers
    with TestClient(app) as untrusted:  # the client is no trusted proxy: its word is ignored
        spoofed = untrusted.get("/healthz", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" not in spoofed.headers


def test_cookies_are_secure_when_the_public_url_is_https(settings: Settings, db: Session) -> None:
    from kefu.app import create_app
    from kefu.config import get_settings
    from kefu.db import get_db

    public = settings.model_copy(update={"public_url": "https://kefu.example.cn"})
    assert public.secure_cookies and not settings.secure_cookies
    app = create_app(public)
    app.dependency_overrides[get_db] = lambda: iter([db])
    app.dependency_overrides[get_settings] = lambda: public
    with TestClient(app, base_url="https://kefu.example.cn") as https_client:
        page = https_client.get("/console/login?lang=en")
        cookies = page.headers.get_list("set-cookie")
        assert cookies and all("Secure" in cookie for cookie in cookies)
        assert "strict-transport-security" in page.headers


def test_no_template_runs_inline_script() -> None:
    """The strict CSP would block it: scripts live in static files, handlers are bound there."""
    import re
    from pathlib import Path

    import kefu

    root = Path(kefu.__file__).parent / "web" / "templates"
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/(?:ld\+)?json)[^>]*>")
    handler = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
    offenders = []
    for path in root.rglob("*.html"):
        text = path.read_text()
        if inline_script.search(text) or handler.search(text) or "javascript:" in text:
            offenders.append(path.name)
    assert not offenders


def test_every_api_route_is_behind_the_edge(app: FastAPI) -> None:
    """The guard is one middleware for every route, not a per-route check."""
    from kefu.edge import RequestGuard, SecurityHeaders

    classes = [m.cls for m in app.user_middleware]
    assert RequestGuard in classes and SecurityHeaders in classes
    assert any(isinstance(r, APIRoute) for r in app.routes)


def test_staff_login_with_nul_password_is_refused_not_stored(
    client: TestClient, db: Session
) -> None:
    user = make_staff(db)
    response = client.post(
        "/api/v1/auth/token", json={"username": user.username, "password": "a\x00"}
    )
    _assert_nul_refused(response)
