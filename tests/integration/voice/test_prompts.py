"""Prompts rendered offline by espeak-ng, cached per text and voice, served for <Play>;
and the listen-check: one prompt per language as 8 kHz μ-law WAV, as a carrier plays it."""

from __future__ import annotations

import shutil
import struct
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.integration.voice.carrier import CarrierCall
from tests.integration.voice.conftest import BASE, TOKEN

from kefu.config import Settings, get_settings
from kefu.db import utcnow
from kefu.voice import prompts
from kefu.voice.models import VoicePrompt

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("sox") is None,
    reason="espeak-ng and sox are installed by .ci/run",
)


def wav_format(data: bytes) -> tuple[int, int, int, int]:
    """(format code, channels, sample rate, bits per sample) from a WAV's fmt chunk."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    position = 12
    while position < len(data):
        chunk, size = (
            data[position : position + 4],
            struct.unpack("<I", data[position + 4 : position + 8])[0],
        )
        if chunk == b"fmt ":
            code, channels, rate = struct.unpack("<HHI", data[position + 8 : position + 16])
            bits = struct.unpack("<H", data[position + 22 : position + 24])[0]
            return code, channels, rate, bits
        position += 8 + size + (size % 2)
    raise AssertionError("no fmt chunk")


@pytest.fixture
def play_settings(voice_app: FastAPI, voice_settings: Settings) -> Settings:
    playing = Settings(**{**voice_settings.model_dump(), "voice_prompts": "play"})
    voice_app.dependency_overrides[get_settings] = lambda: playing
    return playing


def test_play_mode_serves_kefus_own_audio(
    play_settings: Settings, voice_app: FastAPI, demo_db: Session
) -> None:
    with TestClient(voice_app) as client:
        call = CarrierCall(client=client, token=TOKEN, base=BASE, caller="+8613912345678").dial()
        assert call.heard == [] and len(call.played) == 2
        assert all(url.startswith(f"{BASE}/voice/prompts/") for url in call.played)
        first = client.get(call.played[0].removeprefix(BASE))
        assert first.status_code == 200 and first.headers["content-type"] == "audio/wav"
        assert wav_format(first.content)[0] == 1  # PCM as espeak-ng writes it
        call.press("2")
        assert len(call.played) > 2
        assert client.get("/voice/prompts/" + "0" * 40 + ".wav").status_code == 404
        assert client.get("/voice/prompts/..%2Fsecret.wav").status_code in (404, 422)
    keys = [url.rsplit("/", 1)[1].removesuffix(".wav") for url in call.played]
    texts = demo_db.scalars(select(VoicePrompt.text).where(VoicePrompt.key.in_(keys)))
    assert "Please choose a service." in list(texts)
    cached = prompts.cache_path(play_settings, "cmn-latn-pinyin", keys[0])
    assert cached.exists()


def test_one_prompt_per_language_as_telephone_audio(settings: Settings, tmp_path: Path) -> None:
    local = Settings(**{**settings.model_dump(), "voice_prompt_dir": str(tmp_path)})
    for lang, text in (
        ("zh-CN", "您的账户余额为一千二百三十四元五角六分。"),
        ("en", "Your balance is five hundred yuan."),
    ):
        rendered = prompts.render_text(local, text, lang)  # type: ignore[arg-type]
        again = prompts.render_text(local, text, lang)  # type: ignore[arg-type]
        assert again == rendered  # cached per text and voice
        telephone = prompts.to_telephone_wav(rendered, tmp_path / f"{lang}.wav")
        data = telephone.read_bytes()
        assert wav_format(data) == (7, 1, 8000, 8)  # μ-law, mono, 8 kHz, 8 bits
        assert len(data) > 8000  # more than a second of sound


def test_unused_prompts_are_pruned_with_their_audio(
    settings: Settings, demo_db: Session, tmp_path: Path
) -> None:
    local = Settings(**{**settings.model_dump(), "voice_prompt_dir": str(tmp_path)})
    old = utcnow() - timedelta(days=30)
    key = prompts.register(demo_db, local, "您的账户余额为五百元。", "zh-CN", now=old)
    fresh = prompts.register(demo_db, local, "您好。", "zh-CN")
    path = prompts.audio(demo_db, local, key)
    assert path.exists()
    assert prompts.prune(demo_db, local) >= 1
    assert not path.exists()
    assert demo_db.get(VoicePrompt, key) is None and demo_db.get(VoicePrompt, fresh) is not None
