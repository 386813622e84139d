"""Unsigned, forged and replayed requests, garbage, unknown calls: refused or answered
politely, with nothing done and nothing lost."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.integration.voice.carrier import CarrierCall
from tests.integration.voice.conftest import BASE, STUCK_TOPUP, TOKEN, phone_of

from kefu.app import create_app
from kefu.config import Settings, get_settings
from kefu.db import get_db
from kefu.errors import ConfigError
from kefu.voice.models import VoiceCall, VoiceCallEvent

Ring = Callable[[str], CarrierCall]


def calls_in(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(VoiceCall)) or 0)


def test_unsigned_and_forged_requests_get_403_and_change_nothing(
    voice_app: FastAPI, demo_db: Session
) -> None:
    before = calls_in(demo_db)
    with TestClient(voice_app) as client:
        call = CarrierCall(client=client, token=TOKEN, base=BASE, caller=phone_of(STUCK_TOPUP))
        url = f"{BASE}/voice/incoming"
        unsigned = call.signed_post(url, call.fields(), sign=False)
        assert unsigned.status_code == 403
        assert unsigned.json()["error"]["code"] == "signature_invalid"
        forged = CarrierCall(client=client, token="not-the-token", base=BASE, caller=call.caller)
        assert forged.signed_post(url, forged.fields()).status_code == 403
        # signed for the address the app sees, not the public one the carrier called
        local = call.signed_post("http://testserver/voice/incoming", call.fields())
        assert local.status_code == 403
    assert calls_in(demo_db) == before


def test_the_public_url_from_configuration_is_what_is_checked(ring: Ring) -> None:
    call = ring(phone_of(STUCK_TOPUP))
    assert call.said("普通话服务请按一")
    assert call.gather is not None and call.gather.action.startswith(f"{BASE}/voice/input?s=")


def test_a_replayed_key_press_does_nothing(ring: Ring, demo_db: Session) -> None:
    call = ring(phone_of(STUCK_TOPUP))
    assert call.gather is not None
    language_gather = call.gather.action
    call.press("2")
    assert call.said("Please choose a service.")
    record = demo_db.scalar(select(VoiceCall).where(VoiceCall.call_sid == call.sid))
    assert record is not None
    seq = record.seq
    replay = call.post(language_gather, Digits="1")  # the very same signed request again
    demo_db.refresh(record)
    assert record.language == "en"  # not switched to Chinese
    assert record.seq == seq
    assert "Please choose a service." in replay
    kinds = demo_db.scalars(select(VoiceCallEvent.kind).where(VoiceCallEvent.call_id == record.id))
    assert "stale" in list(kinds)


def test_an_unknown_call_starts_over_politely(ring: Ring) -> None:
    call = ring(phone_of(STUCK_TOPUP))
    stranger = CarrierCall(client=call.client, token=TOKEN, base=BASE, caller=call.caller)
    document = stranger.post(f"{BASE}/voice/input?s=4", Digits="1")
    assert "重新开始" in document and "start again" in document
    stranger.follow(document)
    assert stranger.said("普通话服务请按一")  # the redirect rang /voice/incoming afresh


def test_garbage_is_refused_or_treated_as_a_wrong_key(ring: Ring) -> None:
    call = ring(phone_of(STUCK_TOPUP))
    no_sid = call.signed_post(f"{BASE}/voice/incoming", {"From": call.caller})
    assert no_sid.status_code == 400
    bad_seq = call.signed_post(f"{BASE}/voice/input?s=abc", call.fields(Digits="1"))
    assert bad_seq.status_code == 422
    call.press("x' OR 1=1")
    assert call.said("抱歉，这个按键无效。")
    call.press("#")
    assert call.said("抱歉，这个按键无效。")


def test_production_refuses_every_request_without_a_token(
    voice_app: FastAPI, voice_settings: Settings
) -> None:
    production = Settings(
        **{
            **voice_settings.model_dump(),
            "env": "production",
            "voice_auth_token": "",
            "secret_key": "Vq3rT8yZp1LmN6wK0cXe4Hs9Bd2Fj7Gu5Ra",
        }
    )
    voice_app.dependency_overrides[get_settings] = lambda: production
    with TestClient(voice_app) as client:
        call = CarrierCall(client=client, token=TOKEN, base=BASE, caller=phone_of(STUCK_TOPUP))
        response = call.signed_post(f"{BASE}/voice/incoming", call.fields())
    assert response.status_code == 403


def test_without_a_token_outside_production_requests_are_accepted(
    voice_app: FastAPI, voice_settings: Settings
) -> None:
    development = Settings(**{**voice_settings.model_dump(), "voice_auth_token": ""})
    voice_app.dependency_overrides[get_settings] = lambda: development
    with TestClient(voice_app) as client:
        call = CarrierCall(client=client, token=TOKEN, base=BASE, caller=phone_of(STUCK_TOPUP))
        response = call.signed_post(f"{BASE}/voice/incoming", call.fields(), sign=False)
    assert response.status_code == 200


def test_telnyx_requests_are_checked_with_the_account_public_key(
    demo_db: Session, voice_settings: Settings
) -> None:
    """Telnyx signs ``<timestamp>|<raw body>`` with Ed25519: a good signature is served,
    a wrong key, a changed body or an old timestamp gets 403 and does nothing."""
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    settings = Settings(
        **{
            **voice_settings.model_dump(),
            "voice_provider": "telnyx",
            "voice_auth_token": base64.b64encode(public).decode(),
        }
    )
    application = create_app(settings)
    application.dependency_overrides[get_db] = lambda: demo_db
    application.dependency_overrides[get_settings] = lambda: settings
    fields = {"CallSid": "v3:telnyx-call-1", "From": phone_of(STUCK_TOPUP), "To": "+8695099"}
    body = urlencode(fields).encode()

    def post(signer: Ed25519PrivateKey, stamp: int, sent: bytes = body) -> int:
        signature = signer.sign(str(stamp).encode() + b"|" + body)
        headers = {
            "content-type": "application/x-www-form-urlencoded",
            "telnyx-timestamp": str(stamp),
            "telnyx-signature-ed25519": base64.b64encode(signature).decode(),
        }
        with TestClient(application) as client:
            return client.post("/voice/incoming", content=sent, headers=headers).status_code

    before = calls_in(demo_db)
    now = int(time.time())
    assert post(Ed25519PrivateKey.generate(), now) == 403
    assert post(key, now, sent=body.replace(b"telnyx-call-1", b"telnyx-call-2")) == 403
    assert post(key, now - 3600) == 403
    assert calls_in(demo_db) == before
    assert post(key, now) == 200
    assert calls_in(demo_db) == before + 1


def test_a_telnyx_key_that_is_not_a_key_stops_start_up(voice_settings: Settings) -> None:
    settings = Settings(
        **{**voice_settings.model_dump(), "voice_provider": "telnyx", "voice_auth_token": "x"}
    )
    with pytest.raises(ConfigError):
        create_app(settings)
