"""The webhooks' service functions: one per carrier request, each returning TwiML.

Every request is tied to its call by ``CallSid``; the call row is locked for the request
so a status callback cannot race a key press. A key press must name the prompt it answers
(``s``); a replayed or stale one is recorded and answered with the current question,
changing nothing. An unknown call or state starts over politely.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from kefu.channels.senders import Senders
from kefu.config import Settings
from kefu.errors import InvalidInput, KefuError
from kefu.i18n import translate
from kefu.voice import callbacks as _callbacks  # noqa: F401 - registers its steps
from kefu.voice import calls, menu, prompts, queueing
from kefu.voice import identify as _identify  # noqa: F401 - registers its steps
from kefu.voice import selfservice as _selfservice  # noqa: F401 - registers its actions
from kefu.voice.engine import STEPS, Ctx, InvalidKey, enter, goto, on_keys, prompt, step, to_person
from kefu.voice.menu import MenuNode, text_of
from kefu.voice.models import VoiceCall
from kefu.voice.signatures import CarrierRequest, public_base
from kefu.voice.speech import key as spoken_key
from kefu.voice.twiml import Hangup, Leave, Line, Restart, Turn, Urls, player, render, say
from kefu.wallet.port import WalletGateway

log = logging.getLogger("kefu.voice")

_CALL_SID = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
_KEYS = set("0123456789*#")
ENDED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
UNREACHED = frozenset({"busy", "failed", "no-answer", "canceled"})


def call_sid(request: CarrierRequest) -> str:
    sid = request.value("CallSid")
    if not _CALL_SID.match(sid):
        raise InvalidInput("CallSid missing or malformed", field="CallSid")
    return sid


def _keys(raw: str) -> str | None:
    """The keys pressed; anything a keypad cannot send becomes one wrong key ("?")."""
    if not raw:
        return None
    if len(raw) > 32 or not set(raw) <= _KEYS:
        return "?"
    return raw


def _int(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and len(raw) < 9 else None


def _urls(settings: Settings) -> Urls:
    return Urls(public_base(settings))


def respond(ctx: Ctx, turn: Turn, *, advance: bool = True) -> str:
    """Render ``turn``; ``advance`` starts a new prompt number, so older ones go stale."""
    call = ctx.call
    if advance:
        call.seq += 1
    call.last_request_at = ctx.now
    ctx.write_events()
    urls = _urls(ctx.settings)
    if ctx.settings.voice_prompts == "play":
        speak = player(
            urls, lambda line: prompts.register(ctx.db, ctx.settings, line.text, line.lang, ctx.now)
        )
    else:
        speak = say
    return render(turn, seq=call.seq, urls=urls, speak=speak)


def start_over(settings: Settings) -> str:
    """For a request about a call or state Kefu does not know: apologise, start again."""
    lines = [
        Line(translate("voice.start_over", "zh-CN"), "zh-CN"),
        Line(translate("voice.start_over", "en"), "en"),
    ]
    return render(Turn(Restart(), lines), seq=0, urls=_urls(settings), speak=say)


def sorry(settings: Settings) -> str:
    """When something broke: say so in both languages and end the call cleanly."""
    lines = [
        Line(translate("voice.technical_problem", "zh-CN"), "zh-CN"),
        Line(translate("voice.technical_problem", "en"), "en"),
    ]
    return render(Turn(Hangup(), lines), seq=0, urls=_urls(settings), speak=say)


def _context(
    db: Session,
    settings: Settings,
    senders: Senders,
    wallet: WalletGateway,
    call: VoiceCall,
    request: CarrierRequest,
    now: datetime,
) -> Ctx:
    trial = menu.trial_tree(db, call)
    return Ctx(
        db=db,
        settings=settings,
        senders=senders,
        wallet=wallet,
        call=call,
        tree=trial or menu.get(db, call.menu_version, digest=call.menu_digest),
        now=now,
        caller=calls.caller_number(request.value("From")),
        trial=trial is not None,
    )


# --- language, then the menu --------------------------------------------------------------


def _language_prompt(ctx: Ctx) -> Turn:
    return ctx.ask(
        Line(translate("voice.language", "zh-CN"), "zh-CN"),
        Line(translate("voice.language", "en"), "en"),
    )


@step("lang", _language_prompt)
def _choose_language(ctx: Ctx, keys: str) -> Turn:
    languages = {"1": "zh-CN", "2": "en"}
    if keys not in languages:
        raise InvalidKey()
    ctx.call.language = languages[keys]
    ctx.event("language", language=ctx.call.language)
    return enter(ctx, ctx.tree.root)


def _menu_node(ctx: Ctx) -> MenuNode:
    node = ctx.tree.node(ctx.call.node)
    assert isinstance(node, MenuNode)
    return node


def _menu_prompt(ctx: Ctx) -> Turn:
    node = _menu_node(ctx)
    options = "".join(
        ctx.line(
            "voice.menu.option",
            label=text_of(option.label, ctx.lang),
            digit=spoken_key(option.key, ctx.lang),
        ).text
        for option in node.options
    )
    lines = [Line(text_of(node.intro, ctx.lang), ctx.lang)] if node.intro else []
    return ctx.ask(*lines, Line(options, ctx.lang))


@step("menu", _menu_prompt)
def _choose_option(ctx: Ctx, keys: str) -> Turn:
    for option in _menu_node(ctx).options:
        if option.key == keys:
            ctx.event("option", node=ctx.call.node, key=keys)
            return enter(ctx, option.to)
    raise InvalidKey()


# --- the webhooks -------------------------------------------------------------------------


Flow = Callable[[Ctx], Turn]


def _guarded(ctx: Ctx, flow: Flow, *, advance: bool = True) -> str:
    """Run ``flow``; a domain error it did not expect hands the caller to a person,
    with the error in the call record."""
    try:
        return respond(ctx, flow(ctx), advance=advance)
    except KefuError as error:
        log.warning("voice flow error on call %s: %s", ctx.call.call_sid, error.code)
        ctx.db.rollback()
        call = calls.get(ctx.db, ctx.call.call_sid, lock=True)
        if call is None:
            raise
        ctx.call = call
        ctx.events.clear()  # they told of work that was just undone
        ctx.event("error", code=error.code, step=call.step)
        if call.status != "ivr":
            return respond(ctx, Turn(Hangup(), [ctx.line("voice.technical_problem")]))
        return respond(ctx, to_person(ctx, ctx.line("voice.selfservice.unavailable")))


def incoming(
    db: Session,
    settings: Settings,
    senders: Senders,
    wallet: WalletGateway,
    request: CarrierRequest,
    now: datetime,
) -> str:
    sid = call_sid(request)
    call = calls.get(db, sid, lock=True)
    if call is None:
        call = calls.open_call(
            db,
            settings=settings,
            call_sid=sid,
            raw_from=request.value("From"),
            dialled=request.value("To"),
            menu_version=menu.live_version(db),
            now=now,
        )
    ctx = _context(db, settings, senders, wallet, call, request, now)
    if call.status == "ended":
        return respond(ctx, Turn(Hangup()), advance=False)
    if call.seq:
        ctx.event("restarted", step=call.step)
    call.status = "ivr"
    call.node = ""
    goto(ctx, "lang")
    return respond(ctx, _language_prompt(ctx))


def _current(ctx: Ctx) -> Turn:
    """The question the caller is on, for a stale request."""
    if ctx.call.status == "ivr" and ctx.call.step in STEPS:
        return prompt(ctx)
    if ctx.call.status == "queued":
        return queueing.wait(ctx)
    return Turn(Hangup()) if ctx.call.status == "ended" else Turn(Leave())


def keys_pressed(
    db: Session,
    settings: Settings,
    senders: Senders,
    wallet: WalletGateway,
    request: CarrierRequest,
    seq: int | None,
    now: datetime,
    *,
    waiting: bool = False,
) -> str:
    """A ``<Gather>`` answer (or its silence); ``waiting`` for one from the queue's wait
    loop."""
    call = calls.get(db, call_sid(request), lock=True)
    if call is None:
        return start_over(settings)
    ctx = _context(db, settings, senders, wallet, call, request, now)
    expected = "queued" if waiting else "ivr"
    if seq != call.seq or call.status != expected or call.step not in STEPS:
        ctx.event("stale", seq=seq if seq is not None else -1, current=call.seq)
        return respond(ctx, _current(ctx), advance=False)
    keys = _keys(request.value("Digits"))
    return _guarded(ctx, lambda c: on_keys(c, keys))


def queue_wait(
    db: Session,
    settings: Settings,
    senders: Senders,
    wallet: WalletGateway,
    request: CarrierRequest,
    now: datetime,
) -> str:
    call = calls.get(db, call_sid(request), lock=True)
    if call is None:
        return render(Turn(Leave()), seq=0, urls=_urls(settings), speak=say)
    ctx = _context(db, settings, senders, wallet, call, request, now)
    return _guarded(ctx, queueing.wait, advance=False)


def queue_left(
    db: Session,
    settings: Settings,
    senders: Senders,
    wallet: WalletGateway,
    request: CarrierRequest,
    now: datetime,
) -> str:
    call = calls.get(db, call_sid(request), lock=True)
    if call is None:
        return start_over(settings)
    ctx = _context(db, settings, senders, wallet, call, request, now)
    result = request.value("QueueResult")
    queue_time = _int(request.value("QueueTime"))
    return _guarded(ctx, lambda c: queueing.left_queue(c, result, queue_time))


def dial_done(
    db: Session,
    settings: Settings,
    senders: Senders,
    wallet: WalletGateway,
    request: CarrierRequest,
    now: datetime,
) -> str:
    call = calls.get(db, call_sid(request), lock=True)
    if call is None:
        return start_over(settings)
    ctx = _context(db, settings, senders, wallet, call, request, now)
    status = request.value("DialCallStatus")
    duration = _int(request.value("DialCallDuration"))
    return _guarded(ctx, lambda c: queueing.agent_done(c, status, duration))


def status_changed(
    db: Session,
    settings: Settings,
    senders: Senders,
    wallet: WalletGateway,
    request: CarrierRequest,
    now: datetime,
) -> None:
    """The carrier's status callback: a finished call closes its record, however far the
    caller got (hung up mid-flow, in the queue, after the agent)."""
    sid = call_sid(request)
    status = request.value("CallStatus")
    if status not in ENDED:
        return
    call = calls.get(db, sid, lock=True)
    if call is None:  # never reached the menu: keep a record all the same
        call = calls.open_call(
            db,
            settings=settings,
            call_sid=sid,
            raw_from=request.value("From"),
            dialled=request.value("To"),
            menu_version=menu.live_version(db),
            now=now,
        )
    if call.status == "ended":
        return
    ctx = _context(db, settings, senders, wallet, call, request, now)
    queueing.hung_up(ctx)
    if status in UNREACHED:
        outcome = "failed"
    elif any(result["action"] != "verified" for result in call.results):
        outcome = "self_service"
    else:
        outcome = "hung_up"
    ctx.event("status", status=status, step=call.step)
    ctx.write_events()
    calls.end(db, call, outcome=outcome, now=now, duration=_int(request.value("CallDuration")))
