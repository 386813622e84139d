"""The assistant's API: ``POST /api/v1/bot/messages`` (the contract in issue 5) and a start
that opens with the likely question for a signed-in customer.

Starting a conversation returns its id and, once, its owner key; continuing it or reading
it back needs the key (header ``X-Kefu-Conversation-Key``) or the signed-in customer it
belongs to. Without either it is unknown (404), as an id that never existed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from kefu import dbwork, ratelimit
from kefu.bot import service
from kefu.channels.deps import get_senders
from kefu.chat import service as chat
from kefu.chat.models import ChatMessage, Conversation
from kefu.config import Settings
from kefu.db import DbSession
from kefu.deps import ConversationKeyDep, request_lang
from kefu.i18n import Lang, normalise_lang
from kefu.identity.deps import _bearer, current_customer
from kefu.numbers import Count
from kefu.quality import events as quality_events
from kefu.wallet.deps import get_wallet

router = APIRouter(prefix="/bot", tags=["assistant"])
T = TypeVar("T")


def _customer_id(request: Request, db: Session) -> int | None:
    """The signed-in customer, if the request carries a customer token (a wrong one is 401)."""
    if _bearer(request) is None:
        return None
    return current_customer(request, db).customer.id


async def _run_rate_limited_in_one_transaction(
    request: Request, work: Callable[[Session, Settings, int | None, Lang], T]
) -> T:
    """Rate limit, who is asking, and the work, in one transaction and one thread.

    Split over dependencies, each runs in a thread of its own and the transaction stays
    open between them; with every worker busy waiting for the database, the request
    holding it would wait for a thread to finish in, and both would wait till timeout. The
    session, settings and adapters are taken here for the same reason: FastAPI runs each
    plain-function dependency in a worker thread (the session's twice, to open and to
    close it), five hand-overs a turn that cost more than the turn's classification.

    On SQLite the turn joins the chat widget's writer thread (``kefu.dbwork``): turns that
    arrive while one runs share the next commit, and sixteen worker threads no longer
    queue for the one connection. On PostgreSQL it runs in a worker thread of its own.
    """
    client = request.client.host if request.client else "unknown"
    settings: Settings = request.app.state.settings

    def run(db: Session) -> T:
        ratelimit.hit(
            db,
            bucket="bot.messages",
            key=client,
            limit=settings.bot_messages_per_minute,
            window_seconds=60,
            secret=settings.secret_key,
        )
        customer_id = _customer_id(request, db)
        return work(db, settings, customer_id, request_lang(request))

    return await dbwork.for_app(request.app).request(run)


class MessageIn(BaseModel):
    conversation_id: str | None = Field(default=None, min_length=8, max_length=32)
    text: str = Field(max_length=service.MAX_TEXT * 4)
    lang: str | None = Field(default=None, max_length=10)
    client_msg_id: str | None = Field(default=None, min_length=1, max_length=64)


class StartIn(BaseModel):
    lang: str | None = Field(default=None, max_length=10)
    channel: str = Field(default="web", max_length=16)


class QuickReplyOut(BaseModel):
    label: str
    value: str


class MessageOut(BaseModel):
    seq: int
    sender: str
    text: str
    created_at: datetime  # when it was said: clients show it beside the message


class TurnOut(BaseModel):
    conversation_id: str
    # the owner key, only in the answer that started the conversation: the client keeps it
    # and sends it back as ``X-Kefu-Conversation-Key`` (it is stored only as a hash)
    conversation_key: str | None = None
    intent: str
    confidence: float
    reply: str
    handoff: bool
    quick_replies: list[QuickReplyOut]
    input: str
    case_reference: str | None
    status: str
    messages: list[MessageOut]


def _messages(messages: list[ChatMessage]) -> list[MessageOut]:
    return [
        MessageOut(seq=m.seq, sender=m.sender, text=m.text, created_at=m.created_at)
        for m in messages
    ]


def _conversation(
    db: Session, public_id: str, customer_id: int | None, key: str | None
) -> Conversation:
    """The caller's own conversation; another's, or one without the key, as if unknown."""
    return chat.for_owner(db, public_id, key=key, customer_id=customer_id)


@router.post("/messages", response_model=TurnOut)
async def post_message(
    body: MessageIn, request: Request, conversation_key: ConversationKeyDep = None
) -> TurnOut:
    def work(db: Session, settings: Settings, customer_id: int | None, lang: Lang) -> TurnOut:
        new_key = None
        if body.conversation_id:
            conversation = _conversation(db, body.conversation_id, customer_id, conversation_key)
            if customer_id is not None and conversation.customer_id is None:
                conversation.customer_id = customer_id
            if normalise_lang(body.lang):
                conversation.language = normalise_lang(body.lang) or lang
        else:
            conversation = chat.start(
                db,
                channel="web",
                language=normalise_lang(body.lang) or lang,
                customer_id=customer_id,
                with_first_message=True,  # the customer's, in ``respond``
            )
            new_key = chat.issue_owner_key(conversation)
        with quality_events.batched(db):
            turn = service.respond(
                db,
                conversation,
                body.text,
                settings=settings,
                senders=get_senders(request),
                wallet=get_wallet(request, db),
                client_msg_id=body.client_msg_id,
                # a client that names the language is followed; otherwise each message's own
                follow_language=normalise_lang(body.lang) is None,
            )
        return TurnOut(
            conversation_id=conversation.public_id,
            conversation_key=new_key,
            intent=turn.intent,
            confidence=turn.confidence,
            reply=turn.reply,
            handoff=turn.handoff,
            quick_replies=[QuickReplyOut(label=q.label, value=q.value) for q in turn.quick_replies],
            input=turn.input,
            case_reference=turn.case_reference,
            status=conversation.status,
            messages=_messages(turn.messages),
        )

    return await _run_rate_limited_in_one_transaction(request, work)


@router.post("/conversations", response_model=TurnOut, status_code=201)
async def start(body: StartIn, request: Request) -> TurnOut:
    def work(db: Session, settings: Settings, customer_id: int | None, lang: Lang) -> TurnOut:
        key = chat.new_owner_key()
        conversation, messages = service.start_conversation(
            db,
            settings=settings,
            senders=get_senders(request),
            wallet=get_wallet(request, db),
            channel=body.channel,
            language=normalise_lang(body.lang) or lang,
            customer_id=customer_id,
            owner_key=key,
        )
        first = messages[0]
        return TurnOut(
            conversation_id=conversation.public_id,
            conversation_key=key,
            intent=str(first.data.get("intent", "greeting")),
            confidence=1.0,
            reply=first.text,
            handoff=False,
            quick_replies=[QuickReplyOut(**q) for q in first.data.get("quick_replies", [])],
            input=str(first.data.get("input", "text")),
            case_reference=None,
            status=conversation.status,
            messages=_messages(messages),
        )

    return await _run_rate_limited_in_one_transaction(request, work)


@router.get("/conversations/{conversation_id}/messages", response_model=list[MessageOut])
async def get_messages(
    conversation_id: str,
    request: Request,
    db: DbSession,
    after: Count = 0,
    conversation_key: ConversationKeyDep = None,
) -> list[MessageOut]:
    def work() -> list[MessageOut]:
        customer_id = _customer_id(request, db)
        conversation = _conversation(db, conversation_id, customer_id, conversation_key)
        return _messages(chat.messages(db, conversation, after_seq=max(0, after)))

    return await run_in_threadpool(work)
