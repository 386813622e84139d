"""The call engine's parts every flow uses: the context of one webhook, the registry of
steps, and moving a caller between menu nodes.

A *step* is a place where the caller is asked for keys. Each has a ``prompt`` (what is
asked, again after silence, a wrong key or a stale request) and a ``handle`` for the keys
pressed, which returns the next ``Turn`` or raises ``InvalidKey``. The shared rules live
here once: silence repeats the question once, then a person takes the call; three wrong
keys in a row, a person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from kefu.channels.senders import Senders
from kefu.config import Settings
from kefu.i18n import Lang, normalise_lang, translate
from kefu.voice import calls
from kefu.voice.menu import ActionNode, MenuNode, MenuTree, MessageNode, QueueNode, text_of
from kefu.voice.models import VoiceCall
from kefu.voice.twiml import Ask, Hangup, Line, Turn
from kefu.wallet.port import WalletGateway

MAX_INVALID = 3
MAX_SILENT = 2


class InvalidKey(Exception):
    """Keys that make no sense here; ``key`` names what the caller is told."""

    def __init__(self, key: str = "voice.invalid", **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass
class Ctx:
    db: Session
    settings: Settings
    senders: Senders
    wallet: WalletGateway  # the adapter the app built at start-up, on this call's session
    call: VoiceCall
    tree: MenuTree
    now: datetime
    # the caller's number in E.164 as the carrier sent it, None when withheld
    caller: str | None = None
    # a simulated call an admin placed to try the menu's draft: it never reaches real work
    trial: bool = False
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def lang(self) -> Lang:
        return normalise_lang(self.call.language) or self.settings.default_language

    def line(self, key: str, /, **params: Any) -> Line:
        return Line(translate(key, self.lang, **params), self.lang)

    def ask(
        self,
        *prompt: Line,
        digits: int = 1,
        finish: str = "",
        timeout: int | None = None,
        action: str = "/voice/input",
        redirect: bool = True,
    ) -> Turn:
        return Turn(
            Ask(
                prompt=prompt,
                digits=digits,
                finish=finish,
                timeout=timeout or self.settings.voice_gather_timeout_seconds,
                action=action,
                redirect=redirect,
            )
        )

    def event(self, kind: str, /, **data: Any) -> None:
        """Kept for the call record; written together when the turn is answered."""
        self.events.append((kind, data))

    def write_events(self) -> None:
        for kind, data in self.events:
            calls.add_event(self.db, self.call, kind, self.now, **data)
        self.events.clear()

    def result(self, action: str, /, **data: Any) -> None:
        """A self-service outcome for the call record (never a code or a full number)."""
        self.call.results = [*self.call.results, {"action": action, **data}]
        self.event("result", action=action, **data)


Prompter = Callable[[Ctx], Turn]
Handler = Callable[[Ctx, str], Turn]


@dataclass(frozen=True)
class Step:
    prompt: Prompter
    handle: Handler
    # what silence and wrong keys lead to once they run out: a person, goodbye, or (for
    # a caller already waiting for a person) nothing but the question again
    fallback: Literal["person", "goodbye", "stay"] = "person"


STEPS: dict[str, Step] = {}
# action name → how it starts at its node
ACTIONS: dict[str, Callable[[Ctx, str, ActionNode], Turn]] = {}
# how a caller reaches a person at a queue node (kefu.voice.queueing)
PEOPLE: dict[str, Callable[[Ctx, str, QueueNode], Turn]] = {}


def step(
    name: str, prompt: Prompter, *, fallback: Literal["person", "goodbye", "stay"] = "person"
) -> Callable[[Handler], Handler]:
    """Register the step ``name`` with its prompt and the decorated key handler."""

    def register(handle: Handler) -> Handler:
        if name in STEPS:
            raise RuntimeError(f"two voice steps are called {name!r}")
        STEPS[name] = Step(prompt=prompt, handle=handle, fallback=fallback)
        return handle

    return register


def action(name: str) -> Callable[[Callable[[Ctx, str, ActionNode], Turn]], Any]:
    def register(start: Callable[[Ctx, str, ActionNode], Turn]) -> Any:
        ACTIONS[name] = start
        return start

    return register


def goto(ctx: Ctx, step_name: str, **state: Any) -> None:
    """Move to another step of the current node; what it collects starts afresh."""
    ctx.call.step = step_name
    ctx.call.state = {**ctx.call.state, **state}
    ctx.call.invalid_count = 0
    ctx.call.silent_count = 0


def prompt(ctx: Ctx) -> Turn:
    return STEPS[ctx.call.step].prompt(ctx)


def enter(ctx: Ctx, node_id: str, *lines: Line) -> Turn:
    """Take the caller to a node of the menu tree, saying ``lines`` first."""
    call = ctx.call
    node = ctx.tree.node(node_id)
    call.node = node_id
    call.path = [*call.path, node_id]
    call.state = {}
    goto(ctx, "menu")
    ctx.event("node", node=node_id, kind=node.kind)
    if isinstance(node, MenuNode):
        return prompt(ctx).before(*lines)
    if isinstance(node, MessageNode):
        return enter(ctx, node.next, *lines, Line(text_of(node.text, ctx.lang), ctx.lang))
    if isinstance(node, ActionNode):
        return ACTIONS[node.action](ctx, node_id, node).before(*lines)
    return PEOPLE["queue"](ctx, node_id, node).before(*lines)


def done(ctx: Ctx, *lines: Line) -> Turn:
    """An action is over: on to its ``next`` node."""
    node = ctx.tree.node(ctx.call.node)
    target = node.next if isinstance(node, ActionNode | MessageNode) else ctx.tree.root
    return enter(ctx, target, *lines)


def to_person(ctx: Ctx, *lines: Line) -> Turn:
    """The person who takes over from where the caller is (the node's escalation)."""
    node_id = ctx.call.node if ctx.call.node in ctx.tree.nodes else ctx.tree.root
    return enter(ctx, ctx.tree.escalation(node_id), *lines)


def goodbye(ctx: Ctx, *lines: Line) -> Turn:
    return Turn(Hangup(), [*lines, ctx.line("voice.goodbye")])


def _run_out(ctx: Ctx, current: Step, line: Line) -> Turn:
    """Silence or wrong keys ran out: the step's fallback."""
    if current.fallback == "goodbye":
        return goodbye(ctx)
    if current.fallback == "stay":
        ctx.call.invalid_count = ctx.call.silent_count = 0
        return current.prompt(ctx)
    return to_person(ctx, line)


def on_keys(ctx: Ctx, keys: str | None) -> Turn:
    """The shared rules for silence and wrong keys around the current step's handler."""
    current = STEPS[ctx.call.step]
    call = ctx.call
    if not keys:
        call.silent_count += 1
        ctx.event("silence", step=call.step)
        if call.silent_count >= MAX_SILENT:
            return _run_out(ctx, current, ctx.line("voice.no_input.transfer"))
        return current.prompt(ctx).before(ctx.line("voice.no_input"))
    call.silent_count = 0
    try:
        return current.handle(ctx, keys)
    except InvalidKey as wrong:
        call.invalid_count += 1
        ctx.event("invalid", step=call.step, reason=wrong.key)
        if call.invalid_count >= MAX_INVALID:
            return _run_out(ctx, current, ctx.line("voice.invalid.transfer"))
        return current.prompt(ctx).before(ctx.line(wrong.key, **wrong.params))
