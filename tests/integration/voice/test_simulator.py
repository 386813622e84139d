"""The phone simulator (demo mode): a software carrier driving the very same signed
webhooks, and nothing beyond them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.integration.voice.conftest import STUCK_TOPUP, last_code, phone_of

from kefu.app import create_app
from kefu.config import Settings, get_settings
from kefu.db import get_db
from kefu.voice.models import VoiceCall


@pytest.fixture
def demo_client(demo_db: Session, voice_settings: Settings) -> Iterator[TestClient]:
    settings = Settings(**{**voice_settings.model_dump(), "demo": True})
    app: FastAPI = create_app(settings)

    def _db() -> Iterator[Session]:
        yield demo_db

    app.dependency_overrides[get_db] = _db
    app.dependency_overrides[get_settings] = lambda: settings
    with TestClient(app) as client:
        yield client


def step(
    client: TestClient, view: dict[str, Any], event: str, keys: str | None = None
) -> dict[str, Any]:
    response = client.post(
        "/voice/simulator/steps", json={"state": view["state"], "event": event, "keys": keys}
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def texts(view: dict[str, Any]) -> str:
    return " ".join(said["text"] or "" for said in view["said"])


def test_the_simulator_walks_the_hotline_with_signed_requests(
    demo_client: TestClient, demo_db: Session
) -> None:
    page = demo_client.get("/voice/simulator")
    assert page.status_code == 200 and "电话模拟器" in page.text
    started = demo_client.post("/voice/simulator/calls", json={"caller": "13800000002"})
    assert started.status_code == 200, started.text
    view = started.json()
    assert "普通话服务请按一" in texts(view)
    audio = view["said"][0]["audio"]
    assert audio.startswith("/voice/prompts/")
    sound = demo_client.get(audio)
    assert sound.status_code == 200 and sound.content[:4] == b"RIFF"
    view = step(demo_client, view, "keys", "1")
    view = step(demo_client, view, "keys", "2")
    view = step(demo_client, view, "keys", "1")
    view = step(demo_client, view, "keys", "1")
    assert view["state"]["gather"]["digits"] == 6
    view = step(demo_client, view, "keys", last_code(demo_db, phone_of(STUCK_TOPUP)))
    assert "您的账户余额为" in texts(view)
    view = step(demo_client, view, "silence")
    assert "没有听到" in texts(view)
    view = step(demo_client, view, "keys", "0")
    assert view["state"]["mode"] == "queue" and "正在为您转接人工客服" in texts(view)
    view = step(demo_client, view, "poll")
    assert view["state"]["mode"] == "queue"
    view = step(demo_client, view, "hangup")
    assert view["state"]["mode"] == "ended"
    call = demo_db.scalar(select(VoiceCall).where(VoiceCall.call_sid == view["state"]["sid"]))
    assert call is not None and (call.status, call.outcome) == ("ended", "abandoned")


def test_the_simulator_refuses_to_call_anything_else(demo_client: TestClient) -> None:
    view = demo_client.post("/voice/simulator/calls", json={"caller": "anonymous"}).json()
    view["state"]["gather"]["action"] = "https://hotline.kefu.example/api/v1/voice/menu"
    refused = demo_client.post(
        "/voice/simulator/steps", json={"state": view["state"], "event": "keys", "keys": "1"}
    )
    assert refused.status_code == 400
    view["state"]["sid"] = "CA" + "0" * 32  # a real carrier's call: not the simulator's
    assert (
        demo_client.post(
            "/voice/simulator/steps", json={"state": view["state"], "event": "keys", "keys": "1"}
        ).status_code
        == 422
    )
    assert (
        demo_client.post("/voice/simulator/calls", json={"caller": "<script>"}).status_code == 422
    )


def test_the_simulator_exists_only_in_demo_mode(voice_app: FastAPI) -> None:
    with TestClient(voice_app) as client:
        assert client.get("/voice/simulator").status_code == 404
