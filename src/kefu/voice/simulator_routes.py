"""The phone simulator page (demo mode only): a keypad in the browser that rings the
hotline through ``kefu.voice.simulator``, signed like the carrier, and plays the prompts
rendered by espeak-ng. On a machine without espeak-ng the prompts go without audio and the
page reads them with the browser's own speech synthesis, so the simulator works on a fresh
machine. ``create_app`` mounts this router only when ``KEFU_DEMO=true``.
"""

from __future__ import annotations

from typing import Literal

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from kefu.config import Settings
from kefu.db import DbSession, utcnow
from kefu.deps import SettingsDep
from kefu.errors import InvalidInput
from kefu.voice import prompts
from kefu.voice.signatures import public_base, sign
from kefu.voice.simulator import Phone, PhoneState, PhoneView, Post
from kefu.web.templating import render

router = APIRouter(prefix="/voice/simulator", include_in_schema=False)
# a demo customer with a top-up stuck at the bank (kefu.wallet.demo)
DEMO_CALLER = "13800000002"
DEMO_HOTLINE = "95099"
URLS = {"calls": "/voice/simulator/calls", "steps": "/voice/simulator/steps"}


class CallIn(BaseModel):
    caller: str = Field(pattern=r"^(\+?[0-9]{3,20}|anonymous)$")


class StepIn(BaseModel):
    state: PhoneState
    event: Literal["keys", "silence", "poll", "agent_done", "agent_missed", "hangup"]
    keys: str | None = Field(default=None, pattern=r"^[0-9*#]{1,32}$")


def poster(request: Request, settings: Settings) -> Post:
    """Posts to this app's own webhooks, signed as the carrier signs."""

    async def post(url: str, form: dict[str, str]) -> str:
        headers = {}
        if settings.voice_auth_token:
            headers["X-Twilio-Signature"] = sign(settings.voice_auth_token, url, form)
        transport = httpx.ASGITransport(app=request.app)
        async with httpx.AsyncClient(transport=transport) as client:
            response = await client.post(url, data=form, headers=headers)
        if response.status_code != 200:
            raise InvalidInput(f"the hotline answered {response.status_code}", field="url")
        return response.text

    return post


def with_voice(db: Session, settings: Settings, view: PhoneView) -> PhoneView:
    """Give every spoken text its rendered audio, when espeak-ng is here to render it."""
    if not prompts.can_render():
        return view
    now = utcnow()
    for said in view.said:
        if said.text and said.lang and said.audio is None:
            key = prompts.register(db, settings, said.text, said.lang, now)
            said.audio = f"/voice/prompts/{key}.wav"
    db.commit()
    return view


@router.get("")
def page(request: Request) -> Response:
    return render(
        request,
        "voice/simulator.html",
        {"caller": DEMO_CALLER, "dialled": DEMO_HOTLINE, "urls": URLS, "outbox": True},
    )


@router.post("/calls", response_model=PhoneView)
async def start_call(
    body: CallIn, request: Request, db: DbSession, settings: SettingsDep
) -> PhoneView:
    phone = Phone.new(body.caller, DEMO_HOTLINE, poster(request, settings), public_base(settings))
    await phone.dial()
    return await run_in_threadpool(with_voice, db, settings, phone.view())


@router.post("/steps", response_model=PhoneView)
async def step(body: StepIn, request: Request, db: DbSession, settings: SettingsDep) -> PhoneView:
    phone = Phone(body.state, poster(request, settings), public_base(settings))
    await play(phone, body)
    return await run_in_threadpool(with_voice, db, settings, phone.view())


async def play(phone: Phone, body: StepIn) -> None:
    """What the caller did, played to the hotline."""
    if body.event == "keys":
        if body.keys is None:
            raise InvalidInput("keys are needed", field="keys")
        await phone.press(body.keys)
    elif body.event == "silence":
        await phone.silence()
    elif body.event == "poll":
        await phone.poll()
    elif body.event in ("agent_done", "agent_missed"):
        await phone.agent_done(answered=body.event == "agent_done")
    else:
        await phone.hang_up()
