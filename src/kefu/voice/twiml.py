"""What the caller hears next, as plain data, and its TwiML built with the ``twilio``
package. Flows return a ``Turn``: lines to speak, then how the turn ends (wait for keys,
join the queue, ring an agent, leave the queue, start over, hang up).

Every action URL is absolute, under the public URL the carrier calls, and carries the
call's prompt number ``s``: a request for an older prompt is a replay and does nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from twilio.twiml.voice_response import Dial as DialVerb
from twilio.twiml.voice_response import Gather, VoiceResponse

from kefu.i18n import Lang
from kefu.voice.prompts import SAY_LANGUAGES


@dataclass(frozen=True)
class Line:
    text: str
    lang: Lang


@dataclass(frozen=True)
class Ask:
    """Wait for keys: up to ``digits`` of them, ended early by ``finish`` if set."""

    prompt: tuple[Line, ...]
    digits: int = 1
    finish: str = ""
    timeout: int = 6
    action: str = "/voice/input"
    # after silence, come back to ``action`` (a queue's wait music instead loops by itself)
    redirect: bool = True


@dataclass(frozen=True)
class Enqueue:
    queue: str


@dataclass(frozen=True)
class Dial:
    kind: str  # client | sip | number
    target: str
    timeout: int = 25


@dataclass(frozen=True)
class Leave:
    pass


@dataclass(frozen=True)
class Restart:
    pass


@dataclass(frozen=True)
class Hangup:
    pass


End = Ask | Enqueue | Dial | Leave | Restart | Hangup


@dataclass
class Turn:
    end: End
    lines: list[Line] = field(default_factory=list)

    def before(self, *lines: Line) -> Turn:
        """The same turn with ``lines`` said first."""
        return Turn(end=self.end, lines=[*lines, *self.lines])


@dataclass(frozen=True)
class Urls:
    base: str

    def to(self, path: str, **query: str | int) -> str:
        return self.base + path + (f"?{urlencode(query)}" if query else "")


# How a line becomes sound: <Say> in the carrier's voice, or <Play> of Kefu's own audio.
Speaker = Callable[[VoiceResponse | Gather, Line], None]


def say(target: VoiceResponse | Gather, line: Line) -> None:
    target.say(line.text, language=SAY_LANGUAGES[line.lang])


def player(urls: Urls, register: Callable[[Line], str]) -> Speaker:
    def play(target: VoiceResponse | Gather, line: Line) -> None:
        target.play(urls.to(f"/voice/prompts/{register(line)}.wav"))

    return play


def render(turn: Turn, *, seq: int, urls: Urls, speak: Speaker) -> str:
    response = VoiceResponse()
    end = turn.end
    if isinstance(end, Ask):
        for line in turn.lines:
            speak(response, line)
        action = urls.to(end.action, s=seq)
        gather = response.gather(
            input="dtmf",
            num_digits=end.digits,
            finish_on_key=end.finish,
            timeout=end.timeout,
            action=action,
            method="POST",
            action_on_empty_result=False,
        )
        for line in end.prompt:
            speak(gather, line)
        if end.redirect:  # no key within the timeout: the carrier goes on to this verb
            response.redirect(action, method="POST")
        return str(response)
    for line in turn.lines:
        speak(response, line)
    if isinstance(end, Enqueue):
        response.enqueue(
            end.queue,
            action=urls.to("/voice/queue/done"),
            method="POST",
            wait_url=urls.to("/voice/queue/wait"),
            wait_url_method="POST",
        )
    elif isinstance(end, Dial):
        dial = DialVerb(action=urls.to("/voice/dial/done"), method="POST", timeout=end.timeout)
        if end.kind == "client":
            dial.client(end.target)
        elif end.kind == "sip":
            dial.sip(end.target)
        else:
            dial.number(end.target)
        response.append(dial)
    elif isinstance(end, Leave):
        response.leave()
    elif isinstance(end, Restart):
        response.redirect(urls.to("/voice/incoming"), method="POST")
    else:
        response.hangup()
    return str(response)
