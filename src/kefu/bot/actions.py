"""What the assistant does to the world: wallet actions through the port, cases, hand-over.

Every wallet action carries an ``ActionContext`` like an agent's: the assistant's own actor
(role ``assistant``, checked against the permission table), an idempotency key made from
the conversation, the action, its target and the verification that allowed it (a repeated
"yes" never acts twice), the case and the customer for the audit row. The verification
must be strong enough for the action (``kefu.identity.questions.require_allowed``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kefu.bot.dialog import Dialog, Reply
from kefu.bot.nlu.intents import INTENTS
from kefu.cases import notify
from kefu.cases import service as cases
from kefu.cases.categories import Category, category_for_intent
from kefu.cases.models import Case
from kefu.chat import service as chat
from kefu.errors import PermissionDenied
from kefu.identity import questions
from kefu.identity import service as identity_service
from kefu.identity.permissions import ASSISTANT, has_permission
from kefu.support import money
from kefu.support.requester import Requester
from kefu.wallet.idempotency import ActionContext


def account_id(d: Dialog) -> str:
    return identity_service.get_customer(d.db, d.customer_id).wallet_account_id


def context(d: Dialog, action: str, target: str, permission: str = "wallet.act") -> ActionContext:
    if not has_permission(ASSISTANT, permission):
        raise PermissionDenied(f"the assistant may not {permission}")
    if not d.verified:
        raise PermissionDenied("the assistant acts only after a fresh verification")
    # a verification by security questions allows freezing, never an action that lifts a
    # protection or moves money (the hotline's rule, kefu.voice.selfservice)
    questions.require_allowed(d.db, d.conversation.verification_id, action)
    case = current_case(d)
    return ActionContext(
        key=f"bot:{d.conversation.public_id}:{action}:{target}:{d.conversation.verification_id}",
        actor=d.actor,
        case_reference=case.reference if case else None,
        customer_id=d.customer_id,
    )


def asked(d: Dialog, action: str, target: str) -> money.Asked:
    """A support command asked by the verified customer, under ``context``'s key."""
    ctx = context(d, action, target)
    return money.Asked(
        requester=Requester.of_customer(d.actor, d.conversation.verification_id),
        key=ctx.key,
        reason=d.t(f"bot.topic.{d.flow or 'payment_failed'}"),
        customer_id=ctx.customer_id,
        case_reference=ctx.case_reference,
        contact=contact(d),
    )


def contact(d: Dialog) -> money.Contact:
    """This conversation, for the service-quality facts the support layer records."""
    from kefu.quality import events

    conversation = d.conversation
    return money.Contact(
        channel=conversation.channel if conversation.channel in events.CHANNELS else "web",
        conversation_id=conversation.id,
        case_id=conversation.case_id,
        category=category_for_intent(d.flow or conversation.intent or "out_of_scope").value,
    )


def in_emergency(d: Dialog, account: str, customer_id: int) -> money.Asked:
    """An emergency freeze asked before any verification, by someone who says the account
    was stolen and named it by its phone number (rate-limited by the flow): the support
    layer lets this requester freeze and nothing else. Noted on the conversation's case
    only when that case is the account holder's: the chat reveals nobody."""
    case = current_case(d)
    return money.Asked(
        requester=Requester.in_emergency(d.actor),
        key=f"bot:{d.conversation.public_id}:emergency-freeze:{account}",
        reason=d.t("bot.topic.account_stolen"),
        customer_id=customer_id,
        case_reference=case.reference if case and case.customer_id == customer_id else None,
        contact=contact(d),
    )


def money_desk(d: Dialog) -> money.Money:
    return money.Money(d.db, d.wallet, d.settings, now=d.now)


def record(d: Dialog, kind: str, **data: str) -> None:
    """A fact for the service-quality figures, on this conversation's contact."""
    from kefu.quality import events

    conversation = d.conversation
    events.record(
        d.db,
        kind,
        channel=conversation.channel if conversation.channel in events.CHANNELS else "web",
        at=d.now,
        conversation_id=conversation.id,
        case_id=conversation.case_id,
        customer_id=conversation.customer_id,
        category=category_for_intent(d.flow or conversation.intent or "out_of_scope").value,
        data=dict(data) or None,
        # the arrival on a conversation this turn started: no contact to look up
        fresh=kind == "contact_arrived" and chat.inserted_here(d.db, conversation),
    )


def current_case(d: Dialog) -> Case | None:
    if d.conversation.case_id is None:
        return None
    return d.db.get(Case, d.conversation.case_id)


def open_case(
    d: Dialog,
    *,
    intent: str,
    subject: str,
    description: str | None = None,
    priority: str | None = None,
    links: tuple[tuple[str, str], ...] = (),
) -> Case:
    """The conversation's case: opened once, with its committed time told to the customer."""
    existing = current_case(d)
    if existing is not None and existing.status not in ("resolved", "closed"):
        return existing
    case = cases.open_case(
        d.db,
        new=cases.NewCase(
            customer_id=d.customer_id,
            category=category_for_intent(intent).value,
            channel="chat",
            subject=subject[:200],
            description=description,
            priority=priority,
            language=d.lang,
            links=links,
        ),
        actor=d.actor,
        settings=d.settings,
        now=d.now,
    )
    d.conversation.case_id = case.id
    return case


def committed(d: Dialog, case: Case) -> str:
    return notify.committed_sentence(case, d.settings, d.lang)


def facts(d: Dialog) -> dict[str, str]:
    """What the assistant learnt, for the person who takes over: in the flow in progress,
    or in the one just finished."""
    last = d.state.get("last")
    slots = dict(last.get("slots") or {}) if isinstance(last, dict) and not d.flow else {}
    slots.update(d.slots)
    return {key: str(value) for key, value in slots.items() if value not in (None, "")}


# a customer message with a letter or a Chinese character in it (not a phone number, a code
# or an amount typed in answer to a question)
_WORDS = re.compile(r"[A-Za-z\u4e00-\u9fff]")
WORDS_IN_SUBJECT = 80
_FACTS_IN_SUBJECT = ("amount", "time_text")


@dataclass(frozen=True)
class Problem:
    """What the conversation is about: the intent that names the problem and the customer's
    own first words about it (masked as stored), if they wrote any."""

    intent: str
    words: str | None


def _names_a_problem(intent: object) -> bool:
    return isinstance(intent, str) and category_for_intent(intent) is not Category.OTHER


def problem(d: Dialog) -> Problem:
    """The problem behind a conversation, for the case and the queue: the flow in progress,
    else the flow finished last, else the latest message the assistant understood with
    confidence as a problem. "Person please" names no problem: the one asked about before
    it does. ``intent`` is ``human_agent`` when the customer never said what was wrong."""
    last = d.state.get("last")
    candidates: list[object] = [d.flow, last.get("flow") if isinstance(last, dict) else None]
    history = chat.messages(d.db, d.conversation)
    by_seq = {m.seq: m for m in history}
    understood = [
        m
        for m in history
        if m.sender == "bot" and float(m.data.get("confidence") or 0) >= d.settings.bot_confident
    ]
    candidates += [m.data.get("intent") for m in reversed(understood)]
    intent = next((str(c) for c in candidates if _names_a_problem(c)), None)
    if intent is None:
        return Problem("escalate" if d.flow == "escalate" else "human_agent", None)
    for reply in understood:
        if reply.data.get("intent") != intent:
            continue
        asked = by_seq.get(int(reply.data.get("in_reply_to") or 0))
        if asked is not None and _own_words(asked.text, by_seq.get(asked.seq - 1)):
            return Problem(intent, asked.text)
    return Problem(intent, None)


def _own_words(text: str, before: Any) -> bool:
    """Typed by the customer, not a quick reply tapped (its value is an intent or a choice
    the assistant offered) nor a number answering a question."""
    value = text.strip()
    if value in INTENTS or not _WORDS.search(value):
        return False
    offered = before.data.get("quick_replies") if before is not None else None
    return not any(isinstance(q, dict) and q.get("value") == value for q in offered or [])


def case_subject(d: Dialog, intent: str) -> str:
    """The subject an agent reads in a list: the problem, the customer's words, the facts
    collected (amount, time, transaction), e.g. 充值没到账：我充值了500块钱一直没到账（¥500.00）."""
    found = problem(d)
    words = found.words if found.intent == intent else None
    topic = d.t(f"bot.topic.{intent}") if _names_a_problem(intent) else d.t("bot.case.no_topic")
    subject = topic
    if words:
        short = " ".join(words.split())
        if len(short) > WORDS_IN_SUBJECT:
            short = short[: WORDS_IN_SUBJECT - 1] + "…"
        subject = d.t("bot.case.subject_words", topic=topic, words=short)
    known = _subject_facts(d)
    if known:
        subject += d.t("bot.case.subject_facts", facts=d.t("bot.case.fact_separator").join(known))
    return subject


def _subject_facts(d: Dialog) -> list[str]:
    slots = facts(d)
    known = []
    for key in _FACTS_IN_SUBJECT:
        value = slots.get(key)
        if value in (None, ""):
            continue
        known.append(d.money(str(value)) if key == "amount" else str(value))
    return known


def hand_over(d: Dialog, *, reason: str, tier: str = "tier1", urgent: bool = False) -> Reply:
    """Queue the conversation for a person with everything known so far; the customer hears
    where they stand. A known customer's conversation also becomes (or joins) a case."""
    from kefu.chat import routing

    conversation = d.conversation
    case = current_case(d)
    intent = problem(d).intent
    if case is not None and case.status not in ("resolved", "closed"):
        intent = case.category if _names_a_problem(case.category) else intent
    elif conversation.customer_id is not None and d.verified:
        # the conversation itself joins the case's timeline message by message
        # (chat.copy_to_case), so no transcript goes into a description
        case = open_case(
            d,
            intent=intent,
            subject=case_subject(d, intent),
            priority="urgent" if urgent else None,
        )
    conversation.urgent = conversation.urgent or urgent
    item = routing.enqueue(
        d.db,
        kind="chat",
        language=d.lang,
        category=category_for_intent(intent).value,
        tier=tier,
        urgent=conversation.urgent,
        customer_id=conversation.customer_id,
        conversation_id=conversation.id,
        case_id=case.id if case else None,
        context={
            "intent": intent,
            "reason": reason,
            "facts": facts(d),
            "verified": d.verified,
            "verified_at": conversation.verified_at.isoformat()
            if conversation.verified_at
            else None,
            "scam_flagged": conversation.scam_flagged,
        },
        now=d.now,
    )
    place = routing.position(d.db, item, now=d.now)
    record(d, "handed_over", reason=reason)
    conversation.status = "queued"
    conversation.handed_over_at = d.now
    d.finish()
    d.state["misses"] = 0
    text = d.t(
        "bot.handoff.queued",
        position=place.position,
        minutes=place.minutes_to_tell,
    )
    if case is not None:
        text += " " + d.t("bot.handoff.case", reference=case.reference)
    return Reply(text, handoff=True, case_reference=case.reference if case else None)
