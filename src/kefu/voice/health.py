"""The phone hotline as the admin's console home shows it: which carrier, whether its
webhooks are signed, and the calls of the last day."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.config import Settings
from kefu.health import RECENT, AdapterHealth
from kefu.voice.models import VoiceCall


def voice(db: Session, settings: Settings, *, now: datetime) -> AdapterHealth:
    calls = int(
        db.scalar(select(func.count(VoiceCall.id)).where(VoiceCall.started_at >= now - RECENT)) or 0
    )
    facts: dict[str, int | str] = {"calls_24h": calls}
    # without the carrier's auth token webhooks are taken unsigned: development only
    state = "ok" if settings.voice_auth_token else "off"
    return AdapterHealth("voice", state, settings.voice_provider, facts)
