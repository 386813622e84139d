"""Screenshots (and PDFs) sent in a chat, before or without a case.

The same checks as case attachments (``kefu.cases.attachments.sniff``: the type is what
the bytes are, not what the name or browser says; ``KEFU_ATTACHMENT_MAX_BYTES``) and the
same storage. The file shows in the chat as a customer message carrying the attachment's
id; the customer reaches it through the conversation's id, staff through the console.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from kefu.cases import attachments as case_attachments
from kefu.cases.errors import AttachmentTooLarge, AttachmentTypeRefused
from kefu.chat import service as chat
from kefu.chat.models import ChatMessage, Conversation
from kefu.config import Settings
from kefu.db import Base, UtcDateTime, utcnow
from kefu.errors import Conflict, InvalidInput, NotFound
from kefu.sensitive import mask
from kefu.storage import Storage


class ChatAttachment(Base):
    __tablename__ = "chat_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id"), index=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


MAX_PER_CONVERSATION = 20


def add(
    db: Session,
    conversation: Conversation,
    *,
    filename: str,
    data: bytes,
    settings: Settings,
    storage: Storage,
    client_msg_id: str | None = None,
    now: datetime | None = None,
) -> ChatMessage:
    """Store the file and post it in the chat as the customer's message."""
    now = now or utcnow()
    if client_msg_id is not None:
        resent = chat.by_client_msg_id(db, conversation, client_msg_id)
        if resent is not None:
            return resent
    if conversation.status == "closed":
        raise Conflict("the chat is closed", reason="closed")
    if not data:
        raise InvalidInput("the file is empty", field="file")
    if len(data) > settings.attachment_max_bytes:
        raise AttachmentTooLarge(
            "attachment too large", max_mb=round(settings.attachment_max_bytes / 1024 / 1024, 1)
        )
    content_type = case_attachments.sniff(data)
    if content_type is None:
        raise AttachmentTypeRefused("not a PNG, JPEG, GIF, WebP or PDF file")
    full = db.scalar(
        select(ChatAttachment.id)
        .where(ChatAttachment.conversation_id == conversation.id)
        .offset(MAX_PER_CONVERSATION - 1)
        .limit(1)
    )
    if full is not None:
        raise InvalidInput("too many files in this chat", field="file", max=MAX_PER_CONVERSATION)
    public_id = secrets.token_hex(12)
    key = f"chats/{conversation.id}/{public_id}"
    storage.put(key, data)  # before the row: a rollback leaves a stray file, never a lost one
    row = ChatAttachment(
        conversation_id=conversation.id,
        public_id=public_id,
        filename=mask(filename.strip())[:200] or "screenshot",
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_key=key,
        created_at=now,
    )
    db.add(row)
    return chat.append(
        db,
        conversation,
        sender="customer",
        text=row.filename,
        data={
            "attachment": {
                "id": public_id,
                "filename": row.filename,
                "content_type": content_type,
                "size": len(data),
            }
        },
        client_msg_id=client_msg_id,
        now=now,
    )


def get(db: Session, conversation: Conversation, public_id: str) -> ChatAttachment:
    row = db.scalar(
        select(ChatAttachment).where(
            ChatAttachment.conversation_id == conversation.id,
            ChatAttachment.public_id == public_id,
        )
    )
    if row is None:
        raise NotFound("no such attachment")
    return row
