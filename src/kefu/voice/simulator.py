"""A carrier in software, for the phone simulator page: it places a call to the hotline's
webhooks and follows the TwiML it gets back exactly as Twilio would: ``<Gather>`` waits
for keys (then posts them, or follows the ``<Redirect>`` after it on silence),
``<Redirect>`` is followed, ``<Enqueue>`` loops on the wait URL, ``<Leave>`` posts the
queue's action, ``<Dial>`` rings the agent, ``<Hangup>`` or the end of the document ends
the call and sends the status callback.

The requests are the carrier's own: the same form fields, signed with the auth token the
same way, posted to the same URLs. The browser holds the call's state between key presses
(``PhoneState``); a simulator only ever calls the hotline's own webhooks, and only for
simulated calls.
"""

from __future__ import annotations

import secrets
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Awaitable, Callable
from typing import Literal

from pydantic import BaseModel, Field

from kefu.errors import InvalidInput
from kefu.i18n import Lang, normalise_lang

SID_PREFIX = "CASIM"
MAX_HOPS = 12

Post = Callable[[str, dict[str, str]], Awaitable[str]]


class GatherSpec(BaseModel):
    action: str
    digits: int = Field(ge=1, le=32)
    finish: str = Field(max_length=1)
    timeout: int = Field(ge=1, le=300)
    redirect: str | None = None


class PhoneState(BaseModel):
    sid: str = Field(pattern=rf"^{SID_PREFIX}[0-9a-f]{{32}}$")
    caller: str = Field(max_length=32)
    dialled: str = Field(max_length=32)
    started: float
    mode: Literal["menu", "queue", "agent", "ended"] = "menu"
    gather: GatherSpec | None = None
    queue_wait: str | None = None
    queue_action: str | None = None
    queued_at: float | None = None
    dial_action: str | None = None
    agent: str | None = None


class Said(BaseModel):
    """One thing the caller hears: a text (spoken by the page from its audio) or audio."""

    text: str | None = None
    lang: Lang | None = None
    audio: str | None = None


class PhoneView(BaseModel):
    state: PhoneState
    said: list[Said]


class Phone:
    """One exchange with the hotline on behalf of the caller."""

    def __init__(self, state: PhoneState, post: Post, base: str) -> None:
        self.state = state
        self._post = post
        self._base = base
        self.said: list[Said] = []

    @classmethod
    def new(cls, caller: str, dialled: str, post: Post, base: str) -> Phone:
        state = PhoneState(
            sid=SID_PREFIX + secrets.token_hex(16),
            caller=caller,
            dialled=dialled,
            started=time.time(),
        )
        return cls(state, post, base)

    def view(self) -> PhoneView:
        return PhoneView(state=self.state, said=self.said)

    # --- what the caller does --------------------------------------------------------

    async def dial(self) -> None:
        await self._fetch(self._base + "/voice/incoming", {"CallStatus": "ringing"})

    async def press(self, keys: str) -> None:
        gather = self._gather()
        await self._fetch(gather.action, {"Digits": keys}, waiting=self.state.mode == "queue")

    async def silence(self) -> None:
        """The gather timed out: the carrier goes on to the verb after it."""
        if self.state.mode == "queue":
            await self.poll()
            return
        gather = self._gather()
        if gather.redirect is None:
            await self._end()
            return
        await self._fetch(gather.redirect, {})

    async def poll(self) -> None:
        if self.state.mode != "queue" or self.state.queue_wait is None:
            raise InvalidInput("the call is not in a queue", field="event")
        await self._fetch(self.state.queue_wait, self._queue_fields(), waiting=True)

    async def agent_done(self, answered: bool) -> None:
        if self.state.mode != "agent" or self.state.dial_action is None:
            raise InvalidInput("no agent is on the line", field="event")
        fields = (
            {"DialCallStatus": "completed", "DialCallDuration": "42"}
            if answered
            else {"DialCallStatus": "no-answer"}
        )
        await self._fetch(self.state.dial_action, fields)

    async def hang_up(self) -> None:
        if self.state.mode == "ended":
            return
        if self.state.mode == "queue" and self.state.queue_action:
            await self._send(
                self.state.queue_action, {"QueueResult": "hangup", **self._queue_fields()}
            )
        await self._end()

    # --- the carrier's side ------------------------------------------------------------

    def _gather(self) -> GatherSpec:
        if self.state.gather is None or self.state.mode not in ("menu", "queue"):
            raise InvalidInput("the hotline is not waiting for keys", field="event")
        return self.state.gather

    def _queue_fields(self) -> dict[str, str]:
        waited = int(time.time() - (self.state.queued_at or time.time()))
        return {"QueueTime": str(waited), "QueueSid": "QUSIM"}

    def _fields(self, extra: dict[str, str]) -> dict[str, str]:
        return {
            "CallSid": self.state.sid,
            "AccountSid": "ACSIMULATOR",
            "From": self.state.caller,
            "To": self.state.dialled,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
            **extra,
        }

    async def _send(self, url: str, extra: dict[str, str]) -> str:
        if not url.startswith(self._base + "/voice/") or "/voice/simulator" in url:
            raise InvalidInput("the simulator only calls the hotline's webhooks", field="url")
        return await self._post(url, self._fields(extra))

    async def _fetch(self, url: str, extra: dict[str, str], *, waiting: bool = False) -> None:
        await self._run(await self._send(url, extra), waiting=waiting, hops=0)

    async def _end(self) -> None:
        duration = str(int(time.time() - self.state.started))
        self.state.mode = "ended"
        self.state.gather = None
        await self._send(
            self._base + "/voice/status", {"CallStatus": "completed", "CallDuration": duration}
        )

    async def _run(self, document: str, *, waiting: bool, hops: int) -> None:
        """Play one TwiML document as the carrier does; ``waiting`` inside a queue."""
        if hops > MAX_HOPS:
            raise InvalidInput("too many redirects", field="twiml")
        root = ElementTree.fromstring(document)  # noqa: S314 - our own server's reply
        verbs = list(root)
        self.state.gather = None
        for index, verb in enumerate(verbs):
            if verb.tag == "Say":
                self._say(verb)
            elif verb.tag == "Play":
                self.said.append(Said(audio=self._local(verb.text or "")))
            elif verb.tag == "Gather":
                for inner in verb:
                    if inner.tag == "Say":
                        self._say(inner)
                    elif inner.tag == "Play":
                        self.said.append(Said(audio=self._local(inner.text or "")))
                after = verbs[index + 1] if index + 1 < len(verbs) else None
                self.state.gather = GatherSpec(
                    action=verb.get("action", ""),
                    digits=int(verb.get("numDigits", "1")),
                    finish=verb.get("finishOnKey", "#"),
                    timeout=int(verb.get("timeout", "5")),
                    redirect=after.text if after is not None and after.tag == "Redirect" else None,
                )
                self.state.mode = "queue" if waiting else "menu"
                return
            elif verb.tag == "Redirect":
                await self._run(
                    await self._send(verb.text or "", {}), waiting=waiting, hops=hops + 1
                )
                return
            elif verb.tag == "Enqueue":
                self.state.mode = "queue"
                self.state.queue_wait = verb.get("waitUrl")
                self.state.queue_action = verb.get("action")
                self.state.queued_at = time.time()
                await self._run(
                    await self._send(self.state.queue_wait or "", self._queue_fields()),
                    waiting=True,
                    hops=hops + 1,
                )
                return
            elif verb.tag == "Leave" and waiting:
                fields = {"QueueResult": "leave", **self._queue_fields()}
                self.state.mode = "menu"
                await self._run(
                    await self._send(self.state.queue_action or "", fields),
                    waiting=False,
                    hops=hops + 1,
                )
                return
            elif verb.tag == "Dial":
                self.state.mode = "agent"
                self.state.dial_action = verb.get("action")
                self.state.agent = "".join(child.text or "" for child in verb)
                return
            elif verb.tag == "Hangup":
                await self._end()
                return
        if waiting:
            self.state.mode = "queue"  # the wait music ended: the carrier asks again
            return
        await self._end()

    def _say(self, verb: ElementTree.Element) -> None:
        lang = normalise_lang(verb.get("language")) or "zh-CN"
        self.said.append(Said(text=verb.text or "", lang=lang))

    def _local(self, url: str) -> str:
        """A prompt URL as the page fetches it: same origin, path only."""
        return url[len(self._base) :] if url.startswith(self._base) else url
