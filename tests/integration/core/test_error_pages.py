"""An unexpected failure behind a page is shown to the person as a page in their language,
with a way back, never as the API's JSON body; the API keeps its JSON error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from kefu.app import create_app
from kefu.config import get_settings
from kefu.db import get_db


def _database_gone() -> Iterator[None]:
    raise RuntimeError("the database went away")
    yield  # a generator dependency, as get_db is


@pytest.fixture
def broken_client() -> Iterator[TestClient]:
    app = create_app(get_settings())
    app.dependency_overrides[get_db] = _database_gone
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize(
    ("path", "lang", "message", "back"),
    [
        ("/help/track", "zh-CN", "系统繁忙，请稍后再试。我们已记录此问题。", 'href="/help"'),
        ("/help/track", "en", "Something went wrong on our side.", 'href="/help"'),
        ("/console/cases", "zh-CN", "系统繁忙，请稍后再试。我们已记录此问题。", 'href="/console"'),
    ],
)
def test_an_unexpected_failure_behind_a_page_is_a_page(
    broken_client: TestClient, path: str, lang: str, message: str, back: str
) -> None:
    response = broken_client.get(path, params={"lang": lang}, follow_redirects=False)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert message in response.text
    assert back in response.text
    assert "internal_error" not in response.text
    assert "the database went away" not in response.text


def test_an_unexpected_failure_behind_the_api_stays_json(broken_client: TestClient) -> None:
    response = broken_client.post(
        "/api/v1/auth/token",
        json={"username": "agent", "password": "x" * 12},
        params={"lang": "en"},
    )
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "the database went away" not in response.text
