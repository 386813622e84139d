"""One turn of the assistant (智能客服): store what the customer wrote, understand it,
continue or start a guided flow, answer from the FAQ, or hand over to a person.

Order of precedence in a turn, so the customer is never acted on by a guess:
1. a scam signal in the message: warn at once, offer to freeze, flag for a specialist;
2. a flow waiting for an answer (amount, code, yes/no, a choice) takes the message if it fits;
3. "person please" (or two misses in a row) hands over, "cancel" drops the flow;
4. otherwise the message is classified: confident → that intent's flow or answer; unsure →
   the closest topics to pick from; lost → say so and offer a person.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from kefu.bot import actions, flows, identity_step
from kefu.bot.dialog import Dialog, QuickReply, Reply
from kefu.bot.flows.common import TAP_WORDS
from kefu.bot.nlu import classify
from kefu.bot.nlu.intents import INTENTS, OUT_OF_SCOPE
from kefu.cases import service as cases_service
from kefu.channels.senders import Senders
from kefu.chat import service as chat
from kefu.chat.models import ChatMessage, Conversation
from kefu.config import Settings
from kefu.db import utcnow
from kefu.errors import InvalidInput, KefuError, NotFound
from kefu.i18n import Lang, normalise_lang
from kefu.kb import service as kb
from kefu.wallet.port import WalletGateway

log = logging.getLogger("kefu.bot")

MAX_TEXT = 2000
HANDOFF_INTENTS = frozenset({"human_agent", "escalate"})
SMALL_TALK = frozenset({"greeting", "thanks_goodbye", "out_of_scope"})
SOMETHING_ELSE = "something_else"
_CANCEL_WORDS = {
    identity_step.CANCEL,
    "stop",
    "never mind",
    "nevermind",
    "取消",
    "算了",
    "不用了",
    "不办了",
    "退出",
}


@dataclass
class BotTurn:
    conversation: Conversation
    reply: str
    intent: str
    confidence: float
    handoff: bool
    quick_replies: list[QuickReply] = field(default_factory=list)
    input: str = "text"
    case_reference: str | None = None
    messages: list[ChatMessage] = field(default_factory=list)


def respond(
    db: Session,
    conversation: Conversation,
    text: str,
    *,
    settings: Settings,
    senders: Senders,
    wallet: WalletGateway,
    client_msg_id: str | None = None,
    now: datetime | None = None,
    follow_language: bool = True,
) -> BotTurn:
    """Answer one customer message. The customer's message and the replies are stored on the
    conversation; a message resent with the same ``client_msg_id`` is answered only once.
    ``follow_language``: answer in the language the message is written in (off when the
    client named the language)."""
    now = now or utcnow()
    text = _clean(text)
    if client_msg_id is not None:
        replayed = _replayed(db, conversation, client_msg_id)
        if replayed is not None:
            return replayed
    state: dict[str, Any] = dict(conversation.bot_state or {})
    if follow_language and conversation.status == "bot":
        written_in = language_of(text, first=not state.get("arrived"))
        if written_in is not None:
            conversation.language = written_in
    d = Dialog(
        db=db,
        conversation=conversation,
        settings=settings,
        senders=senders,
        wallet=wallet,
        text=text,
        now=now,
        state=state,
    )
    awaiting_code = d.step == identity_step.CODE and identity_step.typed_code(text) is not None
    stored = chat.append(
        db,
        conversation,
        sender="customer",
        # a one-time code typed into the chat is never stored
        text=d.t("bot.verify.code_hidden") if awaiting_code else text,
        client_msg_id=client_msg_id,
        now=now,
    )
    if conversation.status != "bot":
        # a person has the conversation: the assistant only says where things stand
        key = "bot.handoff.waiting" if conversation.status == "queued" else "bot.handoff.with_agent"
        chat.copy_to_case(db, conversation)
        return BotTurn(
            conversation,
            d.t(key),
            conversation.intent or "human_agent",
            1.0,
            True,
            messages=[stored],
        )
    if not d.state.get("arrived"):
        d.state["arrived"] = True
        actions.record(d, "contact_arrived")
    intent, confidence, replies = _turn(d)
    if not any(reply.handoff for reply in replies) and not d.state.get("answered"):
        d.state["answered"] = True
        actions.record(d, "bot_answered")
    conversation.intent = intent
    conversation.bot_state = dict(d.state)  # a new dict, so the JSON column is written
    sent = [
        chat.append(
            db,
            conversation,
            sender="bot",
            text=reply.text,
            data={
                "intent": intent,
                "confidence": confidence,
                "quick_replies": [
                    {"label": q.label, "value": q.value} for q in reply.quick_replies
                ],
                "input": reply.input,
                "handoff": reply.handoff,
                "case_reference": reply.case_reference,
                "in_reply_to": stored.seq,
            },
            now=now,
        )
        for reply in replies
    ]
    chat.copy_to_case(db, conversation)
    chat.write_inserted(db, conversation)
    last = replies[-1]
    return BotTurn(
        conversation=conversation,
        reply="\n\n".join(reply.text for reply in replies),
        intent=intent,
        confidence=confidence,
        handoff=any(reply.handoff for reply in replies),
        quick_replies=last.quick_replies,
        input=last.input,
        case_reference=next((r.case_reference for r in replies if r.case_reference), None),
        messages=[stored, *sent],
    )


def guess_intents(text: str) -> list[tuple[str, float]]:
    """What the assistant understands ``text`` to be about, without answering it: intent ids
    with their probabilities, best first (the help center ranks its articles by them).
    ``out_of_scope`` is no topic: for 天气预报 the help center should find nothing rather
    than the page about what we cover."""
    understood = classify(text)
    ranked = [(understood.intent, understood.confidence), *understood.alternatives]
    return [(intent, probability) for intent, probability in ranked if intent != OUT_OF_SCOPE]


_HAN = re.compile(r"[\u3400-\u9fff]")
# a word of two letters or more standing alone: not part of an e-mail address, a web
# address, a case reference or a tap's value (open_case, tx:12)
_LATIN_WORD = re.compile(r"(?<![\w@.:\-/])[A-Za-z]{2,}(?![\w@.:\-/])")


def language_of(text: str, *, first: bool) -> Lang | None:
    """The language a customer's message is written in, or None when it does not say
    (digits, a code, a tap, an address). Han characters at least as many as English words
    is Chinese; English needs two words, or one in the first message ("hello"), so a
    Chinese customer's "ok" keeps the conversation Chinese."""
    if text in INTENTS or text == SOMETHING_ELSE or text.lower() in TAP_WORDS:
        return None
    han = len(_HAN.findall(text))
    words = len(_LATIN_WORD.findall(text))
    if han and han >= words:
        return "zh-CN"
    if words >= 2 or (words == 1 and first and not han):
        return "en"
    return None


def _clean(text: str) -> str:
    if not isinstance(text, str):
        raise InvalidInput("text must be a string", field="text")
    text = text.replace("\x00", " ").strip()
    if not text:
        raise InvalidInput("a message needs text", field="text")
    return text[:MAX_TEXT]


def _replayed(db: Session, conversation: Conversation, client_msg_id: str) -> BotTurn | None:
    from sqlalchemy import select

    original = db.scalar(
        select(ChatMessage).where(
            ChatMessage.conversation_id == conversation.id,
            ChatMessage.client_msg_id == client_msg_id,
        )
    )
    if original is None:
        return None
    answers = [
        m
        for m in chat.messages(db, conversation, after_seq=original.seq)
        if m.sender == "bot" and m.data.get("in_reply_to") == original.seq
    ]
    last = answers[-1].data if answers else {}
    return BotTurn(
        conversation=conversation,
        reply="\n\n".join(m.text for m in answers),
        intent=str(last.get("intent") or conversation.intent or "out_of_scope"),
        confidence=float(last.get("confidence", 0.0)),
        handoff=any(m.data.get("handoff") for m in answers),
        quick_replies=[QuickReply(**q) for q in last.get("quick_replies", [])],
        input=str(last.get("input", "text")),
        case_reference=next(
            (str(m.data["case_reference"]) for m in answers if m.data.get("case_reference")),
            None,
        ),
        messages=[original, *answers],
    )


def _turn(d: Dialog) -> tuple[str, float, list[Reply]]:
    replies: list[Reply] = []
    # the flow this message arrived in: a step that finishes the flow (or hands over) clears
    # it, yet the turn is still about that flow
    ongoing = d.flow
    warning = _scam_warning(d)
    if warning is not None:
        replies.append(warning)
    try:
        intent, confidence, reply = _understand(d, ongoing)
    except KefuError as error:
        log.info("assistant could not act: %s", error.code)
        intent, confidence = d.flow or ongoing or "out_of_scope", 1.0
        reply = flows.explain_error(d, error)
    if d.flow is None and not reply.handoff and d.verified and d.state.get("complaint"):
        told, reference = _record_complaint(d)
        reply.text += " " + told
        reply.case_reference = reply.case_reference or reference
    if _said_before(d, reply) and not reply.handoff:
        # never the same answer twice in a row: the customer heard it and is still here
        intent, reply = _moving_on(d, intent)
    d.state["said"] = _digest(reply.text)
    d.state["heard"] = _digest(_plain(d.text))
    if warning is None or intent != "scam_report":  # the warning already says it all
        replies.append(reply)
    waiting = d.state.get("next")
    if waiting and d.flow is None and d.conversation.status == "bot" and not reply.handoff:
        # the first problem is done: the other one the customer raised, without being asked
        following = waiting.pop(0)
        if not waiting:
            d.state.pop("next", None)
        intent = str(following["intent"])
        taken = _start(replace(d, text=str(following["text"])), intent)
        taken.text = d.t("bot.next_problem", topic=d.t(f"bot.topic.{intent}")) + "\n" + taken.text
        replies.append(taken)
        d.state["said"] = _digest(taken.text)
    return intent, confidence, replies


# "密码忘了，另外上周的退款也还没到": the places one problem ends and another begins
_ALSO = re.compile(
    r"另外|还有就是|还有|還有|而且|以及|顺便|順便|同时|同時|再就是|此外|[；;]|"
    r"\b(?:also|plus|another thing|on top of that|besides|as well as)\b",
    re.I,
)
# words of a complaint, without which the problem complained about is plain to read
_COMPLAINING = re.compile(
    r"我要投诉|我要投訴|投诉|投訴|太离谱了?|离谱|離譜|太差劲?|垃圾|什么破|气死|太过分|"
    r"\bI (?:want|wish|would like) to (?:file a |make a )?complain(?:t)?\b|\bcomplain(?:t)?\b|"
    r"\bridiculous\b|\bunacceptable\b|\bterrible\b|\bworst\b|\bdisgrace(?:ful)?\b",
    re.I,
)


def _problems(d: Dialog) -> list[tuple[str, str]]:
    """Two (or more) problems in one message, each with its own words; empty for one."""
    parts = [part for p in _ALSO.split(d.text) if len(part := p.strip(" ，,。.!！?？、")) >= 2]
    if len(parts) < 2:  # one problem at most: no need to classify its words again
        return []
    found: list[tuple[str, str]] = []
    for part in parts:
        result = classify(part)
        if (
            result.confidence >= d.settings.bot_unsure
            and result.intent in flows.FLOWS
            and result.intent not in (i for i, _ in found)
        ):
            found.append((result.intent, part))
    return found if len(found) >= 2 else []


def _complaint_about(d: Dialog, intent: str) -> str | None:
    """A complaint about a concrete problem ("提现三天了还不到，太离谱了，我要投诉"): that
    problem's flow, so the customer hears where the item really stands."""
    if intent != "complaint" and _COMPLAINING.search(d.text) is None:
        return None
    rest = _COMPLAINING.sub(" ", d.text).strip(" ，,。.!！?？")
    if len(rest) < 2:
        return None
    result = classify(rest)
    if result.confidence >= d.settings.bot_unsure and result.intent in _MONEY_MISSING | {
        "account_locked",
        "password_reset",
        "login_failed",
        "unauthorized_transaction",
        "account_stolen",
        "suspicious_login",
    }:
        return result.intent
    return None


def _record_complaint(d: Dialog) -> tuple[str, str]:
    """The complaint kept with the problem's case (or a complaint case), told with its
    reference and reply time."""
    text = str(d.state.pop("complaint"))
    case = actions.current_case(d)
    if case is not None and case.status not in ("resolved", "closed"):
        cases_service.add_note(
            d.db, case, body=d.t("bot.complaint.note", text=text), actor=d.actor, now=d.now
        )
    else:
        case = actions.open_case(
            d,
            intent="complaint",
            subject=d.t("bot.case.subject", topic=d.t("bot.topic.complaint")),
            description=text,
        )
    told = d.t("bot.complaint.recorded", reference=case.reference)
    return told + " " + actions.committed(d, case), case.reference


def _plain(text: str) -> str:
    """A message as said, without the punctuation and spacing a retyped one differs in."""
    return re.sub(r"[\W_]+", "", text.lower())


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _said_before(d: Dialog, reply: Reply) -> bool:
    return d.state.get("said") == _digest(reply.text)


_MONEY_MISSING = frozenset(
    {"recharge_not_credited", "recharge_failed", "payment_failed", "transfer_not_arrived", "refund"}
)
# the customer disputes an answer or is losing patience
_PUSHBACK = re.compile(
    r"可是|但是|但我|已经等了|等了.{0,6}(?:小时|小時|天|分钟|分鐘|半天|好久)|还是没|還是沒|还没(?:到|收到|好|解决)|"
    r"怎么还|怎麼還|为什么还|為什麼還|太慢|离谱|離譜|骗人|騙人|胡说|没用|沒用|什么意思|又是这|说过了|說過了|"
    r"不对吧|不可能|已经扣|扣了钱|钱扣了|钱被扣|急死|敷衍|投诉|投訴|"
    r"\b(?:but|still|already|waited|waiting|ridiculous|useless|again|told you|not true|wrong|"
    r"makes no sense|come on|seriously|complain)\b",
    re.I,
)


def _pushes_back(d: Dialog) -> bool:
    """The customer says the same thing again, or, after an answer about an item, disputes
    it, raises it again or shows frustration."""
    plain = _plain(d.text)
    if plain and d.state.get("heard") == _digest(plain):
        return True
    item = d.state.get("item")
    if not isinstance(item, dict) or d.step:
        return False
    result = d.classification
    about = item.get("intent")
    if result.intent == about and result.confidence >= d.settings.bot_unsure:
        return True  # the same problem said again
    if _PUSHBACK.search(d.text) is None:
        return False
    # "but how do I raise my limit?" is a new question; "but the bank took the money" about
    # a top-up is the same money still missing
    new_topic = (
        result.confidence >= d.settings.bot_confident
        and result.intent in flows.FLOWS
        and result.intent not in ("complaint", "case_status", about)
        and not (result.intent in _MONEY_MISSING and about in _MONEY_MISSING)
    )
    return not new_topic


def _moving_on(d: Dialog, intent: str) -> tuple[str, Reply]:
    """Forward, never round again: the item traced with a case and a committed time, or, once
    it is, a person offered; offered already, a person takes over."""
    item = d.state.get("item") if isinstance(d.state.get("item"), dict) else None
    about = str(item.get("intent")) if item and item.get("intent") else intent
    case = actions.current_case(d)
    open_case = case is not None and case.status not in ("resolved", "closed")
    transaction_id = item.get("transaction_id") if item else None
    d.finish()
    if not open_case and d.verified and isinstance(transaction_id, str):
        case = actions.open_case(
            d,
            intent=about,
            subject=d.t("bot.case.subject", topic=d.t(f"bot.topic.{about}")),
            description=d.t("bot.forward.case_text", text=d.text[:500]),
            priority="high",
            links=(("transaction", transaction_id),),
        )
        return about, Reply(
            d.t("bot.forward.traced", reference=case.reference) + " " + actions.committed(d, case),
            quick_replies=[d.option("bot.choice.person", "human_agent")],
            case_reference=case.reference,
        )
    if d.state.get("person_offered"):
        d.state.pop("person_offered", None)
        return about, actions.hand_over(d, reason="customer_not_satisfied")
    d.state["person_offered"] = True
    text = (
        d.t("bot.forward.case_open", reference=case.reference) + " " + actions.committed(d, case)
        if open_case and case is not None
        else d.t("bot.forward.sorry")
    )
    return about, Reply(
        text + " " + d.t("bot.forward.offer_person"),
        quick_replies=[d.option("bot.choice.person", "human_agent")],
        case_reference=case.reference if open_case and case is not None else None,
    )


def _scam_warning(d: Dialog) -> Reply | None:
    """A scam pattern in the message: warn at once, flag the conversation (and its case) for
    a specialist, and offer the freeze; the message is still answered after the warning."""
    from kefu.antifraud import service as antifraud

    signals = antifraud.detect_signals_with_links(d.db, d.text, lang=d.lang)
    if not signals:
        return None
    conversation = d.conversation
    conversation.scam_flagged = True
    conversation.urgent = True
    case = actions.current_case(d)
    antifraud.flag(
        d.db,
        signals,
        channel=conversation.channel,
        actor=d.actor,
        text=d.text,
        customer_id=conversation.customer_id,
        conversation_id=conversation.id,
        case_reference=case.reference if case else None,
        now=d.now,
    )
    return Reply(
        antifraud.warning_text(signals, d.lang),
        quick_replies=[
            d.option("bot.choice.freeze_now", "account_stolen"),
            d.option("bot.choice.person", "human_agent"),
        ],
    )


def _understand(d: Dialog, ongoing: str | None) -> tuple[str, float, Reply]:
    value = d.text.strip()
    lowered = value.lower()
    about = ongoing or "out_of_scope"
    # taps on quick replies carry an intent id or a control word
    if lowered in _CANCEL_WORDS:
        d.finish()
        d.state.pop("verify", None)
        return about, 1.0, Reply(d.t("bot.cancelled"))
    if value in INTENTS:
        return value, 1.0, _start(d, value)
    if value == SOMETHING_ELSE:
        d.finish()
        return "greeting", 1.0, Reply(d.t("bot.ask_what"), quick_replies=_top_topics(d))

    if d.step in identity_step.STEPS:
        reply, verified = identity_step.handle(d)
        if verified:
            d.state["misses"] = 0
            flow = flows.FLOWS.get(about)
            if flow is not None and flow.verified is not None:
                return about, 1.0, flow.verified(d)
            d.finish()
            return about, 1.0, Reply(d.t("bot.verify.done"))
        if reply is not None:
            return about, 1.0, reply
    elif ongoing and d.step:
        step = flows.FLOWS[ongoing].steps.get(d.step) if ongoing in flows.FLOWS else None
        if step is not None:
            reply = step(d)
            if reply is not None:
                d.state["misses"] = 0
                return ongoing, 1.0, reply

    result = d.classification
    intent, confidence = result.intent, result.confidence
    if intent in HANDOFF_INTENTS and confidence >= d.settings.bot_unsure:
        return intent, confidence, _hand_over(d, intent)
    if _pushes_back(d):
        intent, reply = _moving_on(d, intent)
        return intent, 1.0, reply
    problems = _problems(d)
    if problems:
        (first, first_text), *rest = problems
        d.state["next"] = [{"intent": i, "text": t} for i, t in rest]
        reply = _start(replace(d, text=first_text), first)
        topics = [d.t(f"bot.topic.{i}") for i, _ in problems]
        reply.text = d.t("bot.two_problems", first=topics[0], then=topics[1]) + "\n" + reply.text
        return first, 1.0, reply
    complaint = _complaint_about(d, intent)
    if complaint is not None:
        d.state["complaint"] = d.text[:2000]
        reply = _start(d, complaint)
        reply.text = d.t("bot.complaint.heard") + " " + reply.text
        return complaint, 1.0, reply
    if confidence >= d.settings.bot_confident and intent == "out_of_scope":
        return intent, confidence, _miss(d, _answer(d, intent))
    if intent == "contact_channels" and flows.official_candidates(d):
        # "is 4008-123-456 your hotline?" names the number: whether it is ours is the answer
        intent = "verify_official"
    if confidence >= d.settings.bot_confident:
        d.state["misses"] = 0
        if d.flow and intent == d.flow and d.step:
            # the same problem said again while a step waits: ask that step's question again
            return intent, confidence, _repeat_step(d)
        return intent, confidence, _start(d, intent)
    if d.flow and d.step:
        return d.flow, confidence, _miss(d, _repeat_step(d))
    if confidence >= d.settings.bot_unsure:
        choices = [intent] + [other for other, _ in result.alternatives if other not in SMALL_TALK]
        choices = [c for c in choices if c not in SMALL_TALK][:2]
        if choices:
            d.state["choices"] = choices
            return (
                intent,
                confidence,
                _miss(
                    d,
                    Reply(
                        d.t("bot.unsure"),
                        input="choice",
                        quick_replies=[d.option(f"bot.topic.{c}", c) for c in choices]
                        + [d.option("bot.choice.person", "human_agent")],
                    ),
                ),
            )
    return (
        "out_of_scope" if confidence < d.settings.bot_unsure else intent,
        confidence,
        _miss(
            d,
            Reply(
                d.t("bot.not_understood"),
                quick_replies=[d.option("bot.choice.person", "human_agent")],
            ),
        ),
    )


def _miss(d: Dialog, reply: Reply) -> Reply:
    """Two misses in a row: a person takes over rather than a third guess."""
    misses = int(d.state.get("misses", 0)) + 1
    d.state["misses"] = misses
    if misses >= 2:
        return _hand_over(d, "human_agent", reason="assistant_missed")
    return reply


def _repeat_step(d: Dialog) -> Reply:
    if d.step in identity_step.STEPS:
        key = "bot.verify.ask_contact" if d.step == identity_step.CONTACT else "bot.verify.ask_code"
        return Reply(d.t(key), input="code" if d.step == identity_step.CODE else "text")
    return Reply(d.t(f"bot.repeat.{d.step}"), input="text")


def _hand_over(d: Dialog, intent: str, reason: str | None = None) -> Reply:
    tier = "tier2" if intent == "escalate" else "tier1"
    return actions.hand_over(
        d, reason=reason or intent, tier=tier, urgent=d.conversation.scam_flagged
    )


def _start(d: Dialog, intent: str) -> Reply:
    d.state.pop("choices", None)
    item = d.state.get("item")
    if isinstance(item, dict) and item.get("intent") != intent:
        d.state.pop("item", None)  # another problem now
        d.state.pop("person_offered", None)
    if intent in HANDOFF_INTENTS:
        return _hand_over(d, intent)
    flow = flows.FLOWS.get(intent)
    opener = d.state.pop("opener", None)
    if flow is not None:
        d.begin(intent)
        if isinstance(opener, dict) and opener.get("intent") == intent:
            d.slots.update(opener.get("slots") or {})  # what the tapped guess was about
        return flow.start(d)
    d.finish()
    return _answer(d, intent)


def _answer(d: Dialog, intent: str) -> Reply:
    """Intents answered with words, not account look-ups."""
    if intent == "greeting":
        return opening(d) or Reply(d.t("bot.greeting"), quick_replies=_top_topics(d))
    if intent == "thanks_goodbye":
        if d.state.get("answered") and not d.state.get("resolved"):
            # solved without a person: the containment and first-contact figures count it
            d.state["resolved"] = True
            actions.record(d, "resolved")
        return Reply(d.t("bot.goodbye"))
    if intent == "out_of_scope":
        return Reply(d.t("bot.out_of_scope"), quick_replies=_top_topics(d))
    if intent in ("contact_channels", "call_fees"):
        return _contact(d, intent)
    if intent == "scam_report":
        d.conversation.scam_flagged = True
        d.conversation.urgent = True
        return Reply(
            d.t("bot.scam.report"),
            quick_replies=[
                d.option("bot.choice.freeze_now", "account_stolen"),
                d.option("bot.choice.person", "human_agent"),
            ],
        )
    return _faq(d, intent)


def _faq(d: Dialog, intent: str) -> Reply:
    try:
        article = kb.get_article(d.db, slug=intent, lang=d.lang)
    except NotFound:
        return Reply(
            d.t("bot.not_understood"), quick_replies=[d.option("bot.choice.person", "human_agent")]
        )
    return Reply(
        f"{article.title}\n{article.body}",
        quick_replies=[
            d.option("bot.choice.helped", "thanks_goodbye"),
            d.option("bot.choice.person", "human_agent"),
        ],
    )


def _contact(d: Dialog, intent: str) -> Reply:
    """From the official channel registry, so the assistant and the help center agree."""
    from kefu.antifraud import service as antifraud

    fees = intent == "call_fees"
    lines = [
        f"{channel.label(d.lang)}: {channel.value}"
        + (f" ({notes})" if (notes := channel.notes(d.lang)) else "")
        for channel in antifraud.contact_channels(d.db)
        if not fees or channel.kind == "phone"
    ]
    if not lines:
        return Reply(
            d.t("bot.contact.none"), quick_replies=[d.option("bot.choice.person", "human_agent")]
        )
    key = "bot.contact.fees" if fees else "bot.contact.channels"
    return Reply(d.t(key) + "\n" + "\n".join(lines))


def _top_topics(d: Dialog) -> list[QuickReply]:
    return [
        d.option(f"bot.topic.{intent}", intent)
        for intent in ("recharge_not_credited", "account_locked", "refund", "human_agent")
    ]


# --- 猜你想问: answering before the question -------------------------------------------
def opening(d: Dialog) -> Reply | None:
    """For a known customer, the likely question from the account's recent events, with one
    tap to confirm; None when nothing stands out (or the customer is not known)."""
    if d.conversation.customer_id is None:
        return None
    from kefu.bot import openers

    try:
        guess = openers.likely_question(d)
    except KefuError as error:  # the wallet is down or does not know the account: just greet
        log.warning("no opening question: %s", error.code)
        return None
    if guess is None:
        return None
    intent, text, slots = guess
    d.state["opener"] = {"intent": intent, "slots": slots}
    return Reply(
        text,
        quick_replies=[
            QuickReply(label=d.t("bot.choice.yes_this"), value=intent),
            d.option("bot.choice.something_else", SOMETHING_ELSE),
        ],
    )


def start_conversation(
    db: Session,
    *,
    settings: Settings,
    senders: Senders,
    wallet: WalletGateway,
    channel: str = "web",
    language: str | None = None,
    customer_id: int | None = None,
    now: datetime | None = None,
    owner_key: str | None = None,
) -> tuple[Conversation, list[ChatMessage]]:
    """A new conversation with the assistant's first words (the likely question if the
    customer is known, else a greeting). ``owner_key``: a web client's key
    (``chat.new_owner_key``), kept with the conversation. Its row is written once, with
    the first words and the key."""
    now = now or utcnow()
    lang = normalise_lang(language) or settings.default_language
    conversation = chat.start(
        db,
        channel=channel,
        language=lang,
        customer_id=customer_id,
        now=now,
        with_first_message=True,  # the assistant's, below
    )
    if owner_key is not None:
        chat.issue_owner_key(conversation, owner_key)
    d = Dialog(
        db=db,
        conversation=conversation,
        settings=settings,
        senders=senders,
        wallet=wallet,
        text="",
        now=now,
        state={},
    )
    reply = opening(d) or Reply(d.t("bot.greeting"), quick_replies=_top_topics(d))
    conversation.bot_state = dict(d.state)
    message = chat.append(
        db,
        conversation,
        sender="bot",
        text=reply.text,
        data={
            "intent": "greeting",
            "confidence": 1.0,
            "quick_replies": [{"label": q.label, "value": q.value} for q in reply.quick_replies],
            "input": reply.input,
            "handoff": False,
        },
        now=now,
    )
    return conversation, [message]
