"""What the official account does with a follower's message: one assistant turn on the
follower's conversation, answered in the webhook's reply.

Each follower (OpenID) has one open conversation on channel ``wechat``; once it is closed
the next message starts a new one. The assistant's quick replies become numbered lines, and
a number typed back is the option's value, as a tap would be in the widget. WeChat posts a
message again when the answer is late (up to three times, same MsgId): the MsgId is the
message's ``client_msg_id``, so the turn runs once and the retry gets the same answer. While
a person has the conversation, the follower's messages join the live chat and the webhook
answers nothing; the agent's replies go out by the customer-service API
(``kefu.inbound.wechat.outgoing``). Once a verified chat about a case has ended, the
follower's next messages join that case (``kefu.cases.replies``) until they ask about
something new ("新问题").
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.bot import service as bot
from kefu.bot.dialog import QuickReply
from kefu.bot.nlu.normalise import detect_language
from kefu.cases import replies as case_replies
from kefu.channels.senders import Senders
from kefu.chat import service as chat
from kefu.chat.models import ChatMessage, Conversation
from kefu.config import Settings
from kefu.errors import InvalidInput
from kefu.i18n import Lang, normalise_lang, translate
from kefu.inbound.wechat.models import WeChatFollower
from kefu.inbound.wechat.protocol import Incoming
from kefu.wallet.port import WalletGateway

SUBSCRIBE = frozenset({"subscribe", "subscribe_scan"})
# messages (not events) a follower can send; all but text (and transcribed voice) get the
# "text only" answer
MESSAGES = frozenset(
    {"text", "image", "voice", "video", "shortvideo", "location", "link", "file", "unknown"}
)
_WORDS = re.compile(r"[\u3400-\u9fffA-Za-z]")
_CHOICE = re.compile(r"\d{1,2}")
# what a follower writes to leave their case and ask about something else
NEW_TOPIC = frozenset({"新问题", "new question"})


def follower(db: Session, openid: str, now: datetime) -> WeChatFollower:
    """The follower's row, locked for this request so two messages of one follower are
    answered one after the other; created on first contact."""
    query = select(WeChatFollower).where(WeChatFollower.openid == openid).with_for_update()
    found = db.scalars(query).first()
    if found is not None:
        return found
    try:
        with db.begin_nested():
            created = WeChatFollower(openid=openid, subscribed=True, created_at=now, updated_at=now)
            db.add(created)
        return created
    except IntegrityError:  # the same follower's other message created it just now
        return db.scalars(query).one()


def _current(db: Session, row: WeChatFollower) -> Conversation | None:
    if row.conversation_id is None:
        return None
    conversation = db.get(Conversation, row.conversation_id)
    if conversation is None or conversation.status == "closed":
        return None
    return conversation


def _lang(conversation: Conversation | None, settings: Settings) -> Lang:
    language = conversation.language if conversation is not None else None
    return normalise_lang(language) or settings.default_language


def options(reply: str, quick_replies: list[QuickReply], lang: Lang) -> str:
    """The reply with its quick replies as numbered lines to answer by number."""
    if not quick_replies:
        return reply
    lines = [f"{n}. {q.label}" for n, q in enumerate(quick_replies, 1)]
    return "\n\n".join([reply, "\n".join([translate("wechat.options", lang), *lines])])


def _chosen(db: Session, conversation: Conversation, text: str) -> str:
    """A typed number picks that quick reply of the assistant's last message; anything
    else (a one-time code, an amount while none is offered) is kept as typed."""
    typed = unicodedata.normalize("NFKC", text).strip()
    if conversation.status != "bot" or not _CHOICE.fullmatch(typed):
        return text
    last = db.scalars(
        select(ChatMessage)
        .where(ChatMessage.conversation_id == conversation.id, ChatMessage.sender == "bot")
        .order_by(ChatMessage.seq.desc())
        .limit(1)
    ).first()
    if last is None or last.data.get("input") == "code":
        return text
    offered = last.data.get("quick_replies") or []
    index = int(typed)
    if 1 <= index <= len(offered):
        return str(offered[index - 1]["value"])
    return text


def welcome(
    db: Session,
    row: WeChatFollower,
    *,
    settings: Settings,
    senders: Senders,
    wallet: WalletGateway,
    now: datetime,
) -> str:
    """A new follower: the welcome, and the assistant's greeting on a fresh conversation.
    Their language is not known yet: Chinese, the service's first language, and the
    assistant follows if they write in English."""
    row.subscribed = True
    row.updated_at = now
    lang: Lang = "zh-CN"
    text = translate("wechat.welcome", lang)
    if _current(db, row) is not None:
        return text  # subscribed again mid-conversation (or WeChat posted the event twice)
    greeting = _new_conversation(
        db, row, settings=settings, senders=senders, wallet=wallet, lang=lang, now=now
    )
    return "\n\n".join([text, greeting])


def _new_conversation(
    db: Session,
    row: WeChatFollower,
    *,
    settings: Settings,
    senders: Senders,
    wallet: WalletGateway,
    lang: Lang,
    now: datetime,
) -> str:
    """A fresh conversation with the assistant for the follower; its greeting, with the
    quick replies as numbered lines."""
    conversation, messages = bot.start_conversation(
        db,
        settings=settings,
        senders=senders,
        wallet=wallet,
        channel="wechat",
        language=lang,
        now=now,
    )
    row.conversation_id = conversation.id
    greeting = messages[0]
    offered = [QuickReply(**q) for q in greeting.data.get("quick_replies", [])]
    return options(greeting.text, offered, lang)


def _about_their_case(
    db: Session,
    row: WeChatFollower,
    text: str,
    *,
    msg_id: str | None,
    settings: Settings,
    senders: Senders,
    wallet: WalletGateway,
    now: datetime,
) -> str | None:
    """After a verified chat about a case has ended, the follower's next messages join that
    case (within the reopen window), as the summary invited; "新问题" starts a new
    conversation with the assistant instead. None: not about the case."""
    previous = db.get(Conversation, row.conversation_id) if row.conversation_id else None
    if (
        previous is None
        or previous.case_id is None
        or previous.customer_id is None
        or previous.verified_at is None
        or previous.closed_at is None
        or now - previous.closed_at > timedelta(days=settings.case_reopen_days)
    ):
        return None
    lang = _lang(previous, settings)
    if unicodedata.normalize("NFKC", text).strip().lower() in NEW_TOPIC:
        return _new_conversation(
            db, row, settings=settings, senders=senders, wallet=wallet, lang=lang, now=now
        )
    landed = case_replies.in_case(
        db,
        case_id=previous.case_id,
        customer_id=previous.customer_id,
        body=text,
        channel="wechat",
        message_id=msg_id,
        settings=settings,
        now=now,
    )
    if landed is None:
        return None
    return translate("wechat.joined_case", lang, reference=landed.reference)


def receive(
    db: Session,
    incoming: Incoming,
    *,
    settings: Settings,
    senders: Senders,
    wallet: WalletGateway,
    now: datetime,
) -> str | None:
    """Handle one message or event; returns the text of the passive reply, or None when
    there is nothing to say (WeChat then shows nothing)."""
    row = follower(db, incoming.openid, now)
    if incoming.kind in SUBSCRIBE:
        return welcome(db, row, settings=settings, senders=senders, wallet=wallet, now=now)
    if incoming.kind == "unsubscribe":
        row.subscribed, row.updated_at = False, now
        return None
    if incoming.kind not in MESSAGES:
        return None  # menu clicks, location reports, scans: nothing to answer
    conversation = _current(db, row)
    text = (incoming.text or "").strip()
    if not text:
        return translate("wechat.unsupported", _lang(conversation, settings))
    row.subscribed, row.updated_at = True, now
    if conversation is None:
        answered = _about_their_case(
            db,
            row,
            text,
            msg_id=incoming.msg_id,
            settings=settings,
            senders=senders,
            wallet=wallet,
            now=now,
        )
        if answered is not None:
            return answered
        language = detect_language(text) if _WORDS.search(text) else settings.default_language
        conversation = chat.start(db, channel="wechat", language=language, now=now)
        row.conversation_id = conversation.id
    elif conversation.status == "bot" and _WORDS.search(text):
        conversation.language = detect_language(text)  # the assistant follows the follower
    try:
        turn = bot.respond(
            db,
            conversation,
            _chosen(db, conversation, text),
            settings=settings,
            senders=senders,
            wallet=wallet,
            client_msg_id=incoming.msg_id,
            now=now,
            follow_language=False,  # followed above, by WeChat's own rule
        )
    except InvalidInput:
        return translate("wechat.unsupported", _lang(conversation, settings))
    if conversation.status == "active":
        return None  # the agent answers through the customer-service API
    return options(turn.reply, turn.quick_replies, _lang(conversation, settings))
