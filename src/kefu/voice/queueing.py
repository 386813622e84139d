"""A person: the call joins the same routing as live chat (skills, tiers, language;
urgent calls first), hears its place and estimated wait while it waits, and is put through
to the agent routing chose.

Carrier side: the call is put in a queue of its own with ``<Enqueue>``; the carrier
fetches the wait URL in a loop, and each time Kefu says the position and wait from
``kefu.chat.routing`` (never the carrier's own first-come-first-served count). Once an
agent accepts the work item, the next wait request answers ``<Leave>`` and the queue's
action URL ``<Dial>``s the agent (``KEFU_VOICE_AGENT_DIAL``). At peak (an estimate of at
least ``KEFU_VOICE_CALLBACK_OFFER_SECONDS``) the caller is offered a call-back and told
that redialling does not help.
"""

from __future__ import annotations

from kefu.chat import routing
from kefu.chat.routing import QueuePosition
from kefu.i18n import translate
from kefu.identity import service as identity_service
from kefu.notifications import service as notifications
from kefu.quality import surveys
from kefu.voice import callbacks, hours, speech
from kefu.voice.engine import PEOPLE, Ctx, InvalidKey, enter, goodbye, goto, step
from kefu.voice.menu import QueueNode
from kefu.voice.twiml import Dial, Enqueue, Hangup, Leave, Line, Turn

WAIT_ACTION = "/voice/queue/input"


def _position_lines(ctx: Ctx, place: QueuePosition) -> list[Line]:
    if place.position <= 1:
        lines = [ctx.line("voice.queue.next")]
    else:
        lines = [
            ctx.line(
                "voice.queue.position",
                ahead=speech.number(place.position - 1, ctx.lang),
                wait=speech.minutes(place.estimated_wait_seconds, ctx.lang),
            )
        ]
    if place.estimated_wait_seconds >= ctx.settings.voice_callback_offer_seconds:
        lines.append(ctx.line("voice.queue.peak"))
    return lines


def transfer(ctx: Ctx, node_id: str, node: QueueNode) -> Turn:
    """Put the caller through to a person at queue node ``node_id``."""
    call = ctx.call
    call.category = node.category
    call.urgent = call.urgent or node.urgent
    if not hours.open_at(ctx.settings, ctx.now):
        ctx.event("closed")
        goto(ctx, "closed")
        closed = ctx.line("voice.closed", hours=hours.describe(ctx.settings, ctx.lang))
        return _closed_prompt(ctx).before(closed)
    if ctx.trial:
        # an admin trying the draft: say who would take the call instead of ringing agents
        ctx.event("trial_transfer", category=node.category, tier=node.tier)
        return goodbye(
            ctx,
            ctx.line(
                "voice.queue.trial",
                category=translate(f"case.category.{node.category}", ctx.lang),
                tier=translate(f"case.tier.{node.tier}", ctx.lang),
            ),
        )
    item = routing.enqueue(
        ctx.db,
        kind="call",
        language=ctx.lang,
        category=node.category,
        tier=node.tier,
        urgent=call.urgent,
        customer_id=call.customer_id,
        case_id=call.case_id,
        call_sid=call.call_sid,
        context=callbacks.agent_context(ctx),
        now=ctx.now,
        settings=ctx.settings,
    )
    call.work_item_id = item.id
    call.status = "queued"
    call.queued_at = call.queued_at or ctx.now
    goto(ctx, "queue.wait", after_queue=None)
    ctx.event("queued", item=item.id, category=node.category, urgent=call.urgent)
    # the carrier fetches the wait URL at once, which says the place and the wait
    return Turn(Enqueue(f"kefu-{call.call_sid}"), [ctx.line("voice.queue.transfer")])


PEOPLE["queue"] = transfer


def wait(ctx: Ctx) -> Turn:
    """One round of the wait loop: put through if an agent took the call, else where the
    caller stands, then listen for 1 (call-back) until the next round."""
    call = ctx.call
    if call.status != "queued" or call.work_item_id is None:
        return Turn(Leave())
    item = routing.get_item(ctx.db, call.work_item_id)
    if item.status == "assigned" and item.assigned_staff_id is not None:
        call.agent_staff_id = item.assigned_staff_id
        call.state = {**call.state, "after_queue": "agent"}
        ctx.event("agent_assigned", staff_id=item.assigned_staff_id)
        return Turn(Leave(), [ctx.line("voice.queue.connecting")])
    if item.status not in routing.UNASSIGNED:
        call.state = {**call.state, "after_queue": "unavailable"}
        return Turn(Leave())
    place = routing.position(ctx.db, item, ctx.now, settings=ctx.settings)
    return ctx.ask(
        *_position_lines(ctx, place),
        timeout=ctx.settings.voice_queue_refresh_seconds,
        action=WAIT_ACTION,
        redirect=False,
    )


@step("queue.wait", wait, fallback="stay")
def _waiting_keys(ctx: Ctx, keys: str) -> Turn:
    if keys != "1":
        raise InvalidKey("voice.queue.keys")
    call = ctx.call
    if call.work_item_id is not None:
        routing.cancel(
            ctx.db,
            routing.get_item(ctx.db, call.work_item_id),
            reason="callback",
            now=ctx.now,
            settings=ctx.settings,
        )
    call.state = {**call.state, "after_queue": "callback"}
    ctx.event("left_queue", reason="callback")
    return Turn(Leave())


def left_queue(ctx: Ctx, result: str, queue_time: int | None) -> Turn:
    """The carrier's queue action: why the caller is out of the queue, and what next."""
    call = ctx.call
    if call.status != "queued":
        return Turn(Hangup()) if call.status == "ended" else Turn(Leave())
    call.queue_wait_seconds = queue_time
    after = call.state.get("after_queue")
    ctx.event("queue_left", result=result, after=after or "")
    if result == "hangup":
        return _abandoned(ctx)
    if result in ("bridged", "redirected"):
        call.status = "agent"
        return Turn(Hangup())
    call.status = "ivr"
    if result == "leave" and after == "agent" and call.agent_staff_id is not None:
        return _dial_agent(ctx, call.agent_staff_id)
    if result == "leave" and after == "callback":
        return callbacks.begin(ctx)
    goto(ctx, "closed")
    return _closed_prompt(ctx).before(ctx.line("voice.queue.unavailable"))


def _abandoned(ctx: Ctx) -> Turn:
    call = ctx.call
    if call.work_item_id is not None:
        routing.cancel(
            ctx.db,
            routing.get_item(ctx.db, call.work_item_id),
            reason="hung_up",
            now=ctx.now,
            settings=ctx.settings,
        )
    call.outcome = "abandoned"
    return Turn(Hangup())


def _dial_agent(ctx: Ctx, staff_id: int) -> Turn:
    staff = identity_service.get_staff(ctx.db, staff_id)
    kind, _, template = ctx.settings.voice_agent_dial.partition(":")
    ctx.call.status = "agent"
    ctx.event("dialling_agent", staff_id=staff_id)
    return Turn(Dial(kind=kind, target=template.format(username=staff.username)))


def agent_done(ctx: Ctx, dial_status: str, duration: int | None) -> Turn:
    """The carrier's dial action: the agent's leg is over, or never started."""
    call = ctx.call
    if call.status != "agent":
        return Turn(Hangup()) if call.status == "ended" else Turn(Leave())
    item = routing.get_item(ctx.db, call.work_item_id) if call.work_item_id else None
    ctx.event("agent_leg", status=dial_status, duration=duration or 0)
    if dial_status in ("completed", "answered"):
        call.status = "ivr"  # the agent is gone; the caller is back with the menu
        call.outcome = "agent"
        call.agent_answered_at = call.agent_answered_at or ctx.now
        if item is not None and item.status == "assigned":
            routing.finish(ctx.db, item, ctx.now, settings=ctx.settings)
        if call.agent_staff_id is not None:  # their after-call summary waits for them
            notifications.notify_translated(
                ctx.db,
                identity_service.get_staff(ctx.db, call.agent_staff_id),
                kind="after_call",
                key="voice.aftercall.notify",
                link=f"/console/calls/{call.call_sid}",
                now=ctx.now,
                caller=call.caller_masked,
            )
        return start_survey(ctx)
    if item is not None:
        routing.cancel(ctx.db, item, reason="agent_no_answer", now=ctx.now, settings=ctx.settings)
    call.status = "ivr"
    call.agent_staff_id = None
    node = ctx.tree.node(call.node)
    missed = ctx.line("voice.queue.agent_missed")
    if isinstance(node, QueueNode):
        return transfer(ctx, call.node, node).before(missed)
    return enter(ctx, ctx.tree.operator, missed)


def hung_up(ctx: Ctx) -> None:
    """The call ended while queued or with an agent: settle the work item."""
    call = ctx.call
    if call.work_item_id is None:
        return
    item = routing.get_item(ctx.db, call.work_item_id)
    if call.status == "queued" or item.status in routing.UNASSIGNED:
        routing.cancel(ctx.db, item, reason="hung_up", now=ctx.now, settings=ctx.settings)
        if call.status == "queued":
            call.outcome = call.outcome or "abandoned"
    elif item.status == "assigned":
        routing.finish(ctx.db, item, ctx.now, settings=ctx.settings)
        call.outcome = call.outcome or "agent"


# --- out of hours or no one available: a call-back ---------------------------------------


def _closed_prompt(ctx: Ctx) -> Turn:
    return ctx.ask(ctx.line("voice.callback.offer"))


@step("closed", _closed_prompt, fallback="goodbye")
def _closed(ctx: Ctx, keys: str) -> Turn:
    if keys == "1":
        return callbacks.begin(ctx)
    if keys == "*":
        return enter(ctx, ctx.tree.root)
    raise InvalidKey()


# --- the keypad survey after a talk with an agent ---------------------------------------


def start_survey(ctx: Ctx) -> Turn:
    """The quality domain's keypad survey, when it has a question for this call."""
    reply = surveys.offer_for_call(ctx.db, call_sid=ctx.call.call_sid, now=ctx.now)
    if reply is None or reply.text is None:
        return goodbye(ctx)
    goto(ctx, "survey", question=reply.text, expects=reply.expects)
    ctx.event("survey_offered")
    return _survey_prompt(ctx)


def _survey_prompt(ctx: Ctx) -> Turn:
    question = speech.spoken(str(ctx.call.state.get("question", "")), ctx.lang)
    return ctx.ask(Line(question, ctx.lang), timeout=8)


@step("survey", _survey_prompt, fallback="goodbye")
def _survey(ctx: Ctx, keys: str) -> Turn:
    expected = ctx.call.state.get("expects")
    reply = surveys.answer_by_keypad(ctx.db, call_sid=ctx.call.call_sid, digit=keys, now=ctx.now)
    if expected == "score" and reply.outcome in ("answered", "done"):
        ctx.call.survey_score = int(keys)
        ctx.event("survey", score=int(keys))
    said = Line(speech.spoken(reply.text, ctx.lang), ctx.lang) if reply.text else None
    if reply.outcome in ("answered", "junk") and reply.text:
        ctx.call.state = {**ctx.call.state, "question": reply.text, "expects": reply.expects}
        return _survey_prompt(ctx)
    return goodbye(ctx, *([said] if said else []))
