"""The tests' carrier: it rings the hotline as Twilio does and follows the TwiML it gets.

Independent of ``kefu.voice.simulator`` on purpose: requests are signed with the twilio
package's ``RequestValidator.compute_signature`` exactly as the carrier signs them, and
the answers are read with ElementTree, so the webhooks are checked against the protocol
rather than against Kefu's own reading of it.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field

from fastapi.testclient import TestClient
from httpx import Response
from twilio.request_validator import RequestValidator

_sids = itertools.count(1)


@dataclass
class Gathering:
    action: str
    digits: int
    finish: str
    timeout: int
    redirect: str | None


@dataclass
class CarrierCall:
    client: TestClient
    token: str
    base: str
    caller: str
    sid: str = field(default_factory=lambda: f"CA{next(_sids):032x}")
    heard: list[str] = field(default_factory=list)
    last: list[str] = field(default_factory=list)
    played: list[str] = field(default_factory=list)
    gather: Gathering | None = None
    queue_wait: str | None = None
    queue_action: str | None = None
    dial_action: str | None = None
    agent: str | None = None
    state: str = "new"  # menu | queue | agent | ended
    responses: list[str] = field(default_factory=list)

    # --- signing and posting -------------------------------------------------------------

    def fields(self, **extra: str) -> dict[str, str]:
        return {
            "CallSid": self.sid,
            "AccountSid": "AC" + "0" * 32,
            "From": self.caller,
            "To": "+8695099",
            "CallStatus": "in-progress",
            "Direction": "inbound",
            **extra,
        }

    def signed_post(self, url: str, form: dict[str, str], *, sign: bool = True) -> Response:
        headers = {}
        if sign:
            headers["X-Twilio-Signature"] = RequestValidator(self.token).compute_signature(
                url, form
            )
        return self.client.post(url, data=form, headers=headers)

    def post(self, url: str, **extra: str) -> str:
        response = self.signed_post(url, self.fields(**extra))
        assert response.status_code == 200, (url, response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/xml")
        self.responses.append(response.text)
        return response.text

    # --- what a caller does ---------------------------------------------------------------

    def dial(self) -> CarrierCall:
        self.last = []
        self.follow(self.post(f"{self.base}/voice/incoming", CallStatus="ringing"))
        return self

    def press(self, keys: str) -> CarrierCall:
        assert self.gather is not None, f"no gather to press {keys!r} into (state {self.state})"
        self.last = []
        waiting = self.state == "queue"
        self.follow(self.post(self.gather.action, Digits=keys), waiting=waiting)
        return self

    def silence(self) -> CarrierCall:
        assert self.gather is not None and self.gather.redirect is not None
        self.last = []
        self.follow(self.post(self.gather.redirect))
        return self

    def wait(self) -> CarrierCall:
        """The wait music ended: the carrier fetches the wait URL again."""
        assert self.state == "queue" and self.queue_wait is not None
        self.last = []
        self.follow(self.post(self.queue_wait, QueueTime="30"), waiting=True)
        return self

    def agent_hangs_up(self, *, answered: bool = True) -> CarrierCall:
        assert self.state == "agent" and self.dial_action is not None
        self.last = []
        extra = (
            {"DialCallStatus": "completed", "DialCallDuration": "95"}
            if answered
            else {"DialCallStatus": "no-answer"}
        )
        self.follow(self.post(self.dial_action, **extra))
        return self

    def hang_up(self) -> CarrierCall:
        if self.state == "queue" and self.queue_action:
            self.post(self.queue_action, QueueResult="hangup", QueueTime="40")
        self.end()
        return self

    def end(self, status: str = "completed") -> None:
        self.post(f"{self.base}/voice/status", CallStatus=status, CallDuration="120")
        self.state = "ended"
        self.gather = None

    # --- reading TwiML ----------------------------------------------------------------------

    def _say(self, element: ElementTree.Element) -> None:
        if element.tag == "Say":
            self.heard.append(element.text or "")
            self.last.append(element.text or "")
        elif element.tag == "Play":
            self.played.append(element.text or "")

    def follow(self, document: str, *, waiting: bool = False, hops: int = 0) -> None:
        assert hops < 10, "redirect loop"
        verbs = list(ElementTree.fromstring(document))  # noqa: S314 - the app under test
        self.gather = None
        for index, verb in enumerate(verbs):
            if verb.tag in ("Say", "Play"):
                self._say(verb)
            elif verb.tag == "Gather":
                for inner in verb:
                    self._say(inner)
                after = verbs[index + 1] if index + 1 < len(verbs) else None
                self.gather = Gathering(
                    action=verb.attrib["action"],
                    digits=int(verb.attrib.get("numDigits", "0") or 0),
                    finish=verb.attrib.get("finishOnKey", "#"),
                    timeout=int(verb.attrib.get("timeout", "5")),
                    redirect=after.text if after is not None and after.tag == "Redirect" else None,
                )
                self.state = "queue" if waiting else "menu"
                return
            elif verb.tag == "Redirect":
                self.follow(self.post(verb.text or ""), waiting=waiting, hops=hops + 1)
                return
            elif verb.tag == "Enqueue":
                self.state = "queue"
                self.queue_wait = verb.attrib["waitUrl"]
                self.queue_action = verb.attrib["action"]
                self.follow(self.post(self.queue_wait, QueueTime="0"), waiting=True)
                return
            elif verb.tag == "Leave":
                assert waiting, "<Leave> outside a queue"
                self.follow(self.post(self.queue_action or "", QueueResult="leave", QueueTime="60"))
                return
            elif verb.tag == "Dial":
                self.state = "agent"
                self.dial_action = verb.attrib["action"]
                self.agent = "".join(child.text or "" for child in verb)
                return
            elif verb.tag == "Hangup":
                self.end()
                return
        if waiting:
            self.state = "queue"
            return
        self.end()

    def said(self, text: str) -> bool:
        return any(text in line for line in self.last)
