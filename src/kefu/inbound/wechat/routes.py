"""The official account's webhook: ``GET /wechat`` answers WeChat's server check, ``POST
/wechat`` takes followers' messages and answers with a passive reply (被动回复). Off (404)
until ``KEFU_WECHAT_TOKEN`` is set; every request is signed with that token."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from kefu.channels.deps import SendersDep
from kefu.db import DbSession, utcnow
from kefu.deps import SettingsDep
from kefu.errors import NotFound
from kefu.inbound.wechat import inbound, nonces, protocol
from kefu.quality import events as quality_events
from kefu.wallet.deps import WalletDep

log = logging.getLogger("kefu.channels")
router = APIRouter(prefix="/wechat", tags=["wechat webhook"])

Param = Annotated[str, Query(max_length=128)]


def _signed(
    signature: Param = "",
    timestamp: Param = "",
    nonce: Param = "",
    msg_signature: Param = "",
    encrypt_type: Param = "",
) -> protocol.Signed:
    return protocol.Signed(signature, timestamp, nonce, msg_signature, encrypt_type)


def _enabled(settings: SettingsDep) -> None:
    if not settings.wechat_token:
        raise NotFound("the WeChat channel is not configured")


@router.get("")
def check(
    settings: SettingsDep,
    signature: Param = "",
    timestamp: Param = "",
    nonce: Param = "",
    echostr: Annotated[str, Query(max_length=256)] = "",
) -> Response:
    _enabled(settings)
    signed = _signed(signature, timestamp, nonce)
    return Response(protocol.echo(settings, signed, echostr), media_type="text/plain")


@router.post("")
async def incoming(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    senders: SendersDep,
    wallet: WalletDep,
    signature: Param = "",
    timestamp: Param = "",
    nonce: Param = "",
    msg_signature: Param = "",
    encrypt_type: Param = "",
) -> Response:
    _enabled(settings)
    signed = _signed(signature, timestamp, nonce, msg_signature, encrypt_type)
    protocol.verify(settings, signed)
    body = await request.body()

    def work() -> Response:
        nonces.remember(db, signed, body, now=utcnow())
        message = protocol.read(settings, signed, body)
        with quality_events.batched(db):
            text = inbound.receive(
                db, message, settings=settings, senders=senders, wallet=wallet, now=utcnow()
            )
        db.commit()
        if text is None:
            return Response("success", media_type="text/plain")  # WeChat: nothing to show
        return Response(
            protocol.reply(settings, signed, message, text), media_type="application/xml"
        )

    return await run_in_threadpool(work)
