"""The server builds its adapters (the message senders and the wallet gateway) once, at
start-up, and every request uses those: several assistant turns, a phone call through the
wallet self-service and a WeChat message do not build another.

The constructors are wrapped where every build passes (``sms.build_sender``,
``email.build_sender`` and the wallet's backend check), so a use case that built its own
adapter again, however it imported the factory, is counted."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.integration.voice.carrier import CarrierCall
from tests.integration.voice.conftest import BASE, STUCK_TOPUP, TOKEN, last_code, phone_of
from tests.integration.wechat.conftest import WeChat, wechat_settings

from kefu.app import create_app
from kefu.channels import email, sms
from kefu.config import Settings, get_settings
from kefu.db import get_db
from kefu.wallet import port


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    counts: Counter[str] = Counter()

    def counting(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            counts[name] += 1
            return real(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(sms, "build_sender", counting("sms", sms.build_sender))
    monkeypatch.setattr(email, "build_sender", counting("email", email.build_sender))
    monkeypatch.setattr(port, "check_backend", counting("wallet", port.check_backend))
    return counts


@pytest.fixture
def client(built: Counter[str], demo_db: Session, voice_settings: Settings) -> Iterator[TestClient]:
    served = wechat_settings(voice_settings)
    application = create_app(served)

    def _db() -> Iterator[Session]:
        yield demo_db

    application.dependency_overrides[get_db] = _db
    application.dependency_overrides[get_settings] = lambda: served
    with TestClient(application, raise_server_exceptions=False) as http:
        yield http


def test_adapters_are_built_once_at_start_up(
    built: Counter[str], client: TestClient, demo_db: Session
) -> None:
    assert built == Counter({"sms": 1, "email": 1, "wallet": 1})  # by create_app

    # the assistant, over HTTP: a conversation and several turns
    started = client.post("/api/v1/bot/conversations", json={"lang": "zh-CN"})
    assert started.status_code == 201, started.text
    key = {"X-Kefu-Conversation-Key": started.json()["conversation_key"]}
    public_id = started.json()["conversation_id"]
    for text in ("我的余额是多少", "账户被冻结了怎么办", "转人工"):
        turn = client.post(
            "/api/v1/bot/messages",
            json={"conversation_id": public_id, "text": text},
            headers=key,
        )
        assert turn.status_code == 200, turn.text

    # a phone call: identified by a code, then the balance through the wallet port
    call = CarrierCall(client=client, token=TOKEN, base=BASE, caller=phone_of(STUCK_TOPUP))
    call.dial().press("1").press("2").press("1").press("1")
    call.press(last_code(demo_db, phone_of(STUCK_TOPUP)))
    assert call.said("您的账户余额为")

    # a WeChat follower: subscribes (the assistant greets) and writes
    wechat = WeChat(client, client.app.state.settings)  # type: ignore[attr-defined]
    assert wechat.say("o-adapters-follower", "充值没到账")

    assert built == Counter({"sms": 1, "email": 1, "wallet": 1})
