"""The chat widget's HTTP side: start a conversation (anonymous, with a verified
customer's token, or with the wallet app's signed token), the widget's texts, and
screenshots. Messages themselves go over the websocket (``kefu.chat.ws``).

The start answers with the conversation's id and, once, its owner key. The id alone opens
nothing: screenshots up and down (and the websocket's hello) need the key too, in the
``X-Kefu-Conversation-Key`` header, or the signed-in customer the conversation belongs to;
otherwise the conversation is unknown (404). Neither is shown to staff.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Path, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from kefu import ratelimit
from kefu.bot import service as bot_service
from kefu.channels.deps import SendersDep
from kefu.chat import app_token, attachments
from kefu.chat import service as chat
from kefu.db import DbSession
from kefu.deps import CONVERSATION_KEY_HEADER, ConversationKeyDep, LangDep, SettingsDep
from kefu.i18n import LANGUAGES, catalogue, normalise_lang
from kefu.identity.deps import _bearer, current_customer
from kefu.storage import Storage
from kefu.wallet.deps import WalletDep

router = APIRouter(prefix="/chat", tags=["chat"])

ConversationId = Annotated[str, Path(min_length=8, max_length=32)]
WIDGET_PREFIX = "chat.widget."


def _storage(request: Request) -> Storage:
    built: Storage = request.app.state.storage
    return built


StorageDep = Annotated[Storage, Depends(_storage)]


class StartIn(BaseModel):
    lang: str | None = Field(default=None, max_length=10)
    channel: Literal["web", "app"] = "web"
    app_token: str | None = Field(default=None, max_length=app_token.MAX_TOKEN)


class StartOut(BaseModel):
    conversation_id: str
    # given once: the widget keeps it and sends it with everything after (never in a URL)
    conversation_key: str
    status: str
    language: str
    known_customer: bool


def _signed_in(request: Request, db: Session) -> int | None:
    """The customer a bearer token proves, if one is sent (a wrong one is 401)."""
    if _bearer(request) is None:
        return None
    return current_customer(request, db).customer.id


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/conversations", response_model=StartOut, status_code=201)
def start(
    body: StartIn,
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    lang: LangDep,
    senders: SendersDep,
    wallet: WalletDep,
) -> StartOut:
    """A new conversation with the assistant's first words. A wallet-app token or a
    verified customer's bearer token makes the customer known from the start."""
    ratelimit.hit(
        db,
        bucket="chat.start",
        key=_client(request),
        limit=settings.chat_starts_per_client_per_hour,
        window_seconds=3600,
        secret=settings.secret_key,
    )
    customer_id = None
    language = normalise_lang(body.lang) or lang
    if body.app_token:
        customer = app_token.verify(db, body.app_token, settings=settings)
        customer_id = customer.id
        language = normalise_lang(body.lang) or normalise_lang(customer.language) or lang
    elif request.headers.get("authorization"):
        customer_id = current_customer(request, db).customer.id
    key = chat.new_owner_key()
    conversation, _messages = bot_service.start_conversation(
        db,
        settings=settings,
        senders=senders,
        wallet=wallet,
        channel="app" if body.app_token else body.channel,
        language=language,
        customer_id=customer_id,
        owner_key=key,
    )
    db.commit()
    return StartOut(
        conversation_id=conversation.public_id,
        conversation_key=key,
        status=conversation.status,
        language=conversation.language,
        known_customer=customer_id is not None,
    )


@router.get("/widget-texts")
def widget_texts(lang: LangDep) -> dict[str, object]:
    """The widget's own texts in the customer's language (the catalogue's ``chat.widget.*``);
    ``?lang=`` picks the language."""
    texts = {
        key[len(WIDGET_PREFIX) :]: value
        for key, value in catalogue(lang).items()
        if key.startswith(WIDGET_PREFIX)
    }
    return {"lang": lang, "languages": list(LANGUAGES), "texts": texts}


class UploadOut(BaseModel):
    seq: int
    attachment_id: str
    filename: str
    content_type: str
    size: int


@router.post(
    "/conversations/{conversation_id}/attachments", response_model=UploadOut, status_code=201
)
async def upload(
    conversation_id: ConversationId,
    file: UploadFile,
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    store: StorageDep,
    conversation_key: ConversationKeyDep = None,
    client_msg_id: Annotated[str | None, Form(min_length=1, max_length=64)] = None,
) -> UploadOut:
    """A screenshot into the chat: checked, stored, and posted as the customer's message."""
    data = await file.read(settings.attachment_max_bytes + 1)

    def store_file(session: Session) -> UploadOut:
        conversation = chat.for_owner(
            session,
            conversation_id,
            key=conversation_key,
            customer_id=_signed_in(request, session),
            lock=True,
        )
        message = attachments.add(
            session,
            conversation,
            filename=file.filename or "",
            data=data,
            settings=settings,
            storage=store,
            client_msg_id=client_msg_id,
        )
        session.commit()
        info = message.data["attachment"]
        return UploadOut(
            seq=message.seq,
            attachment_id=info["id"],
            filename=info["filename"],
            content_type=info["content_type"],
            size=info["size"],
        )

    return await run_in_threadpool(store_file, db)


@router.get("/conversations/{conversation_id}/attachments/{attachment_id}")
def download(
    conversation_id: ConversationId,
    attachment_id: Annotated[str, Path(max_length=32)],
    request: Request,
    db: DbSession,
    store: StorageDep,
    conversation_key: ConversationKeyDep = None,
) -> Response:
    """A screenshot of the caller's own conversation (the widget fetches it with the key
    and shows it from memory: an ``<img src>`` could not send the header)."""
    conversation = chat.for_owner(
        db, conversation_id, key=conversation_key, customer_id=_signed_in(request, db)
    )
    row = attachments.get(db, conversation, attachment_id)
    response = file_response(row, store)
    # the answer depends on who asks, not only on the address: a browser's cache must not
    # hand it to a request without the key
    response.headers["Vary"] = f"{CONVERSATION_KEY_HEADER}, Authorization"
    return response


def file_response(row: attachments.ChatAttachment, store: Storage) -> Response:
    """Images inline (the chat shows them), anything else as a download; never sniffed."""
    disposition = "inline" if row.content_type.startswith("image/") else "attachment"
    return Response(
        store.get(row.storage_key),
        media_type=row.content_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{row.public_id}"',
            "Cache-Control": "private, max-age=3600",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
