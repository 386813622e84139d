"""The carrier's webhooks (``/voice/...``), answered with TwiML, and the prompt audio.

Point a number's voice URL at ``POST /voice/incoming`` and its status callback at
``POST /voice/status``; every other URL is handed to the carrier inside the TwiML. With
``KEFU_VOICE_AUTH_TOKEN`` set, a request without a valid signature gets 403 and does
nothing; in production the token is required.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse, Response
from twilio.twiml.voice_response import VoiceResponse

from kefu.channels.deps import SendersDep
from kefu.config import Settings
from kefu.db import DbSession, utcnow
from kefu.deps import SettingsDep
from kefu.errors import InvalidInput
from kefu.quality import events as quality_events
from kefu.voice import flow, prompts
from kefu.voice.signatures import Carrier
from kefu.wallet.deps import WalletDep

log = logging.getLogger("kefu.voice")
router = APIRouter(prefix="/voice", tags=["voice webhooks"])
XML = "application/xml"


Seq = Annotated[int | None, Query(alias="s", ge=0, le=10_000_000)]


def _answer(db: DbSession, settings: Settings, work: Callable[[datetime], str]) -> Response:
    """Run one webhook's work and commit; a bug costs the caller an apology, not silence."""
    try:
        with quality_events.batched(db):
            xml = work(utcnow())
        db.commit()
    except InvalidInput:
        db.rollback()
        raise
    except Exception:
        log.exception("voice webhook failed")
        db.rollback()
        xml = flow.sorry(settings)
    return Response(xml, media_type=XML)


@router.post("/incoming")
def incoming(
    carrier: Carrier, db: DbSession, settings: SettingsDep, senders: SendersDep, wallet: WalletDep
) -> Response:
    return _answer(
        db, settings, lambda now: flow.incoming(db, settings, senders, wallet, carrier, now)
    )


@router.post("/input")
def keys_pressed(
    carrier: Carrier,
    seq: Seq,
    db: DbSession,
    settings: SettingsDep,
    senders: SendersDep,
    wallet: WalletDep,
) -> Response:
    return _answer(
        db,
        settings,
        lambda now: flow.keys_pressed(db, settings, senders, wallet, carrier, seq, now),
    )


@router.post("/queue/wait")
def queue_wait(
    carrier: Carrier, db: DbSession, settings: SettingsDep, senders: SendersDep, wallet: WalletDep
) -> Response:
    return _answer(
        db, settings, lambda now: flow.queue_wait(db, settings, senders, wallet, carrier, now)
    )


@router.post("/queue/input")
def queue_keys(
    carrier: Carrier,
    seq: Seq,
    db: DbSession,
    settings: SettingsDep,
    senders: SendersDep,
    wallet: WalletDep,
) -> Response:
    return _answer(
        db,
        settings,
        lambda now: flow.keys_pressed(
            db, settings, senders, wallet, carrier, seq, now, waiting=True
        ),
    )


@router.post("/queue/done")
def queue_done(
    carrier: Carrier, db: DbSession, settings: SettingsDep, senders: SendersDep, wallet: WalletDep
) -> Response:
    return _answer(
        db, settings, lambda now: flow.queue_left(db, settings, senders, wallet, carrier, now)
    )


@router.post("/dial/done")
def dial_done(
    carrier: Carrier, db: DbSession, settings: SettingsDep, senders: SendersDep, wallet: WalletDep
) -> Response:
    return _answer(
        db, settings, lambda now: flow.dial_done(db, settings, senders, wallet, carrier, now)
    )


@router.post("/status")
def status(
    carrier: Carrier, db: DbSession, settings: SettingsDep, senders: SendersDep, wallet: WalletDep
) -> Response:
    def work(now: datetime) -> str:
        flow.status_changed(db, settings, senders, wallet, carrier, now)
        return str(VoiceResponse())

    return _answer(db, settings, work)


@router.get("/prompts/{key}.wav")
def prompt_audio(
    key: Annotated[str, Path(pattern=r"^[0-9a-f]{40}$")], db: DbSession, settings: SettingsDep
) -> FileResponse:
    """A prompt's audio for ``<Play>``, rendered by espeak-ng on first request."""
    path = prompts.audio(db, settings, key)
    return FileResponse(path, media_type="audio/wav", headers={"Cache-Control": "max-age=86400"})
