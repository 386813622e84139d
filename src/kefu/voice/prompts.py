"""Prompts rendered to audio by Debian's espeak-ng, cached per text and voice, served for
``<Play>``.

With ``KEFU_VOICE_PROMPTS=play`` the webhooks answer with ``<Play>`` URLs instead of
``<Say>``: the carrier fetches ``/voice/prompts/<key>.wav`` and Kefu renders the text
the first time it is asked for. Mandarin uses the ``cmn-latn-pinyin`` voice, which reads
Chinese characters with their tones (Debian 12's plain ``cmn`` voice reads tone numbers
aloud). Texts reach here already spelled out by ``kefu.voice.speech``.

The text of each prompt is kept in the ``voice_prompt`` table (the audio URL carries only
a keyed hash, so no figure appears in a URL or an access log, and none can be guessed);
the audio lives in ``KEFU_VOICE_PROMPT_DIR`` on each app server and is made again when
missing.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import shutil
import subprocess
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.config import Settings
from kefu.db import utcnow
from kefu.errors import ConfigError, KefuError, NotFound
from kefu.i18n import Lang
from kefu.voice.models import VoicePrompt

log = logging.getLogger("kefu.voice")

ESPEAK = "espeak-ng"
SOX = "sox"
VOICES: dict[Lang, str] = {"zh-CN": "cmn-latn-pinyin", "en": "en"}
# the language a carrier's own text-to-speech is asked for in <Say>
SAY_LANGUAGES: dict[Lang, str] = {"zh-CN": "zh-CN", "en": "en-US"}
_TOUCH_AFTER = timedelta(hours=1)
_RENDER_TIMEOUT = 20


class PromptRenderFailed(KefuError):
    status = 503
    code = "prompt_render_failed"
    message_key = "error.voice.prompt_render_failed"


def can_render() -> bool:
    """espeak-ng is installed, so prompts can be rendered to audio here."""
    return shutil.which(ESPEAK) is not None


def check_tools(settings: Settings) -> None:
    """Refuse to start in ``play`` mode without espeak-ng: every call would go silent."""
    if settings.voice_prompts == "play" and not can_render():
        raise ConfigError("KEFU_VOICE_PROMPTS=play needs espeak-ng (apt-get install espeak-ng)")


def prompt_key(settings: Settings, voice: str, text: str) -> str:
    """Keyed, so nobody can guess the URL of a prompt carrying someone's figures."""
    message = f"{voice}\n{text}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()[:40]


def register(
    db: Session, settings: Settings, text: str, lang: Lang, now: datetime | None = None
) -> str:
    """Make ``text`` servable as audio; returns its key. Repeated texts cost one read."""
    now = now or utcnow()
    voice = VOICES[lang]
    key = prompt_key(settings, voice, text)
    row = db.get(VoicePrompt, key)
    if row is None:
        try:
            with db.begin_nested():
                db.add(
                    VoicePrompt(key=key, voice=voice, text=text, created_at=now, last_used_at=now)
                )
        except IntegrityError:  # another call registered the same text just now
            pass
    elif row.last_used_at < now - _TOUCH_AFTER:
        row.last_used_at = now
    return key


def cache_path(settings: Settings, voice: str, key: str) -> Path:
    return Path(settings.voice_prompt_dir) / voice / f"{key}.wav"


def synthesise(text: str, voice: str, target: Path) -> None:
    """espeak-ng to a WAV file, written under a temporary name and moved into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(suffix=".wav", dir=target.parent)
    os.close(handle)
    try:
        subprocess.run(  # noqa: S603 - fixed program, text goes in on stdin
            [ESPEAK, "-v", voice, "-b", "1", "-w", temporary, "--stdin"],
            input=text.encode(),
            check=True,
            capture_output=True,
            timeout=_RENDER_TIMEOUT,
        )
        Path(temporary).replace(target)
    except (OSError, subprocess.SubprocessError) as exc:
        Path(temporary).unlink(missing_ok=True)
        log.error("espeak-ng failed for voice %s: %s", voice, exc)
        raise PromptRenderFailed("espeak-ng failed") from exc


def audio(db: Session, settings: Settings, key: str) -> Path:
    """The WAV file for a registered prompt, rendered on first use."""
    row = db.get(VoicePrompt, key)
    if row is None:
        raise NotFound("no such prompt")
    path = cache_path(settings, row.voice, key)
    if not path.exists():
        synthesise(row.text, row.voice, path)
    return path


def render_text(settings: Settings, text: str, lang: Lang) -> Path:
    """Render ``text`` without registering it (the CLI and the cache warm-up)."""
    voice = VOICES[lang]
    path = cache_path(settings, voice, prompt_key(settings, voice, text))
    if not path.exists():
        synthesise(text, voice, path)
    return path


def to_telephone_wav(source: Path, target: Path) -> Path:
    """8 kHz mono μ-law WAV, as a carrier plays audio down a phone line (sox)."""
    try:
        subprocess.run(  # noqa: S603 - fixed program and our own paths
            [SOX, str(source), "-r", "8000", "-c", "1", "-e", "mu-law", str(target)],
            check=True,
            capture_output=True,
            timeout=_RENDER_TIMEOUT,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise PromptRenderFailed("sox failed") from exc
    return target


def prune(db: Session, settings: Settings, now: datetime | None = None) -> int:
    """Forget prompts unused for ``KEFU_VOICE_PROMPT_KEEP_DAYS``, with their audio."""
    now = now or utcnow()
    cutoff = now - timedelta(days=settings.voice_prompt_keep_days)
    stale = list(
        db.execute(
            select(VoicePrompt.key, VoicePrompt.voice).where(VoicePrompt.last_used_at < cutoff)
        )
    )
    for key, voice in stale:
        cache_path(settings, voice, key).unlink(missing_ok=True)
    if stale:
        db.execute(delete(VoicePrompt).where(VoicePrompt.last_used_at < cutoff))
    return len(stale)
