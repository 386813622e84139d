"""Start conversations and append numbered messages; read them back after a sequence number."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, event, select, update
from sqlalchemy.orm import (
    NO_VALUE,
    PassiveFlag,
    Session,
    SessionTransaction,
    make_transient,
    make_transient_to_detached,
)
from sqlalchemy.orm.attributes import get_history, instance_state
from sqlalchemy.orm.util import identity_key

from kefu import audit
from kefu.cases import conversation as case_conversation
from kefu.cases.models import Case
from kefu.chat import bus
from kefu.chat.models import ChatMessage, Conversation
from kefu.db import insert_now, insert_unless_taken, utcnow
from kefu.errors import InvalidInput, NotFound
from kefu.identity.models import StaffUser
from kefu.sensitive import mask

CHANNELS = ("web", "app", "wechat", "sms", "cli", "email", "phone")
SENDERS = ("customer", "bot", "agent", "system")
MAX_TEXT = 4000
# chats in a window that closes: the written summary after the chat also goes by SMS (or
# e-mail) and is on the case as that notification; a WeChat or SMS conversation keeps it
# where it was said
SUMMARY_BY_TEXT = frozenset({"web", "app", "cli"})
_LOCKED = "kefu.chat.locked"  # ids of the conversations this transaction holds locked
_INSERTED = "kefu.chat.inserted"  # ids of the conversations this transaction inserted


def channel(conversation_id: int) -> str:
    """The bus channel of a conversation's open sockets."""
    return f"conv:{conversation_id}"


def message_payload(message: ChatMessage) -> dict[str, Any]:
    return {
        "type": "message",
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "sender": message.sender,
        "text": message.text,
        "data": message.data or {},
        "internal": message.internal,
        "client_msg_id": message.client_msg_id,
        "created_at": message.created_at.isoformat() if message.created_at else None,
    }


def start(
    db: Session,
    *,
    channel: str,
    language: str,
    customer_id: int | None = None,
    now: datetime | None = None,
    with_first_message: bool = False,
) -> Conversation:
    """A new conversation, inserted at once; ``with_first_message``: inserted by the
    ``append`` of its first message instead, with that message's number, so a turn that
    starts it writes its row once rather than inserting and then updating it (until then
    it has no id)."""
    if channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {channel!r}", field="channel")
    now = now or utcnow()
    conversation = Conversation(
        public_id=secrets.token_urlsafe(18)[:24],
        owner_key_hash=None,
        channel=channel,
        language=language,
        customer_id=customer_id,
        status="bot",
        intent=None,
        bot_state={},
        verification_id=None,
        verified_at=None,
        case_id=None,
        assigned_staff_id=None,
        urgent=False,
        scam_flagged=False,
        last_seq=0,
        case_synced_seq=0,
        created_at=now,
        updated_at=now,
        handed_over_at=None,
        closed_at=None,
    )
    if not with_first_message:
        _insert_conversation(db, conversation)
    return conversation


def _insert_conversation(db: Session, conversation: Conversation) -> None:
    """The new conversation (every column set) written at once and put in the session as
    the row it is: the unit of work's flush of a new object cost several times its INSERT."""
    insert_now(db, conversation)
    # an object the session still holds under this id was a row a rolled-back savepoint
    # took back (SQLite gives the id out again): a flushed INSERT's object would have left
    # the session with it
    stale = db.identity_map.get(identity_key(Conversation, conversation.id))
    if stale is not None:
        db.expunge(stale)
    make_transient_to_detached(conversation)
    db.add(conversation)
    # no other transaction sees the new row before the commit: as good as locked, so
    # ``append`` need not flush and read it again for each message
    db.info.setdefault(_LOCKED, set()).add(conversation.id)
    db.info.setdefault(_INSERTED, set()).add(conversation.id)


def inserted_here(db: Session, conversation: Conversation) -> bool:
    """Whether this transaction inserted the conversation (no other record can name it
    yet: its id was given out in this transaction)."""
    return conversation.id in db.info.get(_INSERTED, ())


# the columns to set are the parameters' other names (compiled once per set of them)
_CONVERSATIONS = cast(Table, Conversation.__table__)
_UPDATE = update(_CONVERSATIONS).where(_CONVERSATIONS.c.id == bindparam("conversation_id"))


def write_inserted(db: Session, conversation: Conversation) -> None:
    """Write the changes of a conversation this transaction inserted now, with one UPDATE of
    the columns changed, and mark it as written: the unit of work's flush of the one object
    cost several times its UPDATE (an assistant's first turn: its intent, state and last
    message number). A change of its status or person is left to the flush, which
    announces it to the sockets (``live._announce``)."""
    if conversation.id not in db.info.get(_INSERTED, ()) or status_changed(conversation):
        return
    state = instance_state(conversation)
    changed = tuple(
        sorted(
            key
            for key, before in state.committed_state.items()
            if before is NO_VALUE or before != state.dict.get(key)
        )
    )
    if changed:
        values = {key: state.dict[key] for key in changed}
        db.connection().execute(_UPDATE, {**values, "conversation_id": conversation.id})
    elif not state.committed_state:
        return
    # what it holds is what is stored: out of the session (``make_transient``, without
    # ``expunge``'s walk of relations it has none of) and back as read
    make_transient(conversation)
    make_transient_to_detached(conversation)
    db.add(conversation)


def by_public_id(db: Session, public_id: str, *, lock: bool = False) -> Conversation:
    query = select(Conversation).where(Conversation.public_id == public_id)
    if lock:
        query = query.with_for_update()
    conversation = db.scalars(query).first()
    if conversation is None:
        raise NotFound("conversation not found")
    return conversation


MAX_OWNER_KEY = 64


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def new_owner_key() -> str:
    """An owner key for a conversation a web client starts (``issue_owner_key``)."""
    return secrets.token_urlsafe(32)


def issue_owner_key(conversation: Conversation, key: str | None = None) -> str:
    """A new owner key for a conversation a web client starts (or ``key``, made by
    ``new_owner_key``): returned once, to that client, and kept only as its sha256 (a
    leaked database does not let anyone in)."""
    key = key or new_owner_key()
    conversation.owner_key_hash = _key_hash(key)
    return key


def for_owner(
    db: Session,
    public_id: str,
    *,
    key: str | None,
    customer_id: int | None,
    lock: bool = False,
) -> Conversation:
    """The conversation a web client continues, if it is theirs: they hold its owner key,
    or they are the signed-in customer it belongs to. Anything else is "not found", the
    same as an unknown id: a stranger who has only the id learns nothing, not even that it
    exists. A conversation no web client started (WeChat, SMS, phone: no key) is never
    reachable from here, and another signed-in customer's is not, key or no key."""
    query = select(Conversation).where(Conversation.public_id == public_id)
    if lock:
        query = query.with_for_update()
    conversation = db.scalars(query).first()
    if conversation is None or conversation.owner_key_hash is None:
        raise NotFound("conversation not found")
    if customer_id is not None and conversation.customer_id not in (None, customer_id):
        raise NotFound("conversation not found")
    has_key = (
        key is not None
        and len(key) <= MAX_OWNER_KEY
        and hmac.compare_digest(_key_hash(key), conversation.owner_key_hash)
    )
    signed_in_owner = customer_id is not None and conversation.customer_id == customer_id
    if not (has_key or signed_in_owner):
        raise NotFound("conversation not found")
    return conversation


# The statements of every chat message, built once: building a statement and its cache
# key cost more than running it (``db.insert_now``); ``Session.get`` builds its SELECT anew
# on each call.
_LOCKING_READ = (
    select(Conversation)
    .where(Conversation.id == bindparam("id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)
_BY_CLIENT_MSG_ID = select(ChatMessage).where(
    ChatMessage.conversation_id == bindparam("conversation_id"),
    ChatMessage.client_msg_id == bindparam("client_msg_id"),
)


def locked(db: Session, conversation_id: int) -> Conversation | None:
    """The conversation read afresh with its row locked till the transaction ends, for a
    change that appends to it: ``append`` then need not lock and read it again."""
    conversation = db.scalars(_LOCKING_READ, {"id": conversation_id}).first()
    if conversation is not None:
        db.info.setdefault(_LOCKED, set()).add(conversation.id)
    return conversation


@event.listens_for(Session, "after_transaction_end")
def _forget_locks(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_LOCKED, None)
        session.info.pop(_INSERTED, None)


def by_client_msg_id(
    db: Session, conversation: Conversation, client_msg_id: str
) -> ChatMessage | None:
    """The message a client already sent with this id, if any."""
    params = {"conversation_id": conversation.id, "client_msg_id": client_msg_id}
    return db.scalars(_BY_CLIENT_MSG_ID, params).first()


def append(
    db: Session,
    conversation: Conversation,
    *,
    sender: str,
    text: str,
    data: dict[str, Any] | None = None,
    staff_id: int | None = None,
    internal: bool = False,
    client_msg_id: str | None = None,
    now: datetime | None = None,
) -> ChatMessage:
    """Add a message with the next sequence number; a repeated ``client_msg_id`` returns the
    message already stored instead of adding it twice."""
    if sender not in SENDERS:
        raise InvalidInput(f"unknown sender {sender!r}", field="sender")
    now = now or utcnow()
    started = conversation.id is None and conversation not in db
    if started:
        # started ``with_first_message``: this message's number goes in with the row (and
        # no message of it can carry the client's id yet)
        conversation.last_seq += 1
        conversation.updated_at = now
        _insert_conversation(db, conversation)
    elif conversation.id not in db.info.get(_LOCKED, ()):
        db.flush()  # pending changes to the conversation must survive the locking re-read
        db.refresh(conversation, with_for_update=True)
    message = ChatMessage(
        conversation_id=conversation.id,
        seq=conversation.last_seq if started else conversation.last_seq + 1,
        sender=sender,
        staff_id=staff_id,
        text=mask(text[:MAX_TEXT]),
        data=data or {},
        internal=internal,
        client_msg_id=client_msg_id,
        created_at=now,
    )
    # written at once and left out of the session: nothing changes a message once stored,
    # and a flush of each new one cost several times its INSERT. A client's id already
    # stored (a resend) writes nothing and is answered with the message stored: one
    # statement for every message instead of a look-up before each.
    if client_msg_id is None or started:
        insert_now(db, message)
    elif not insert_unless_taken(db, message, "conversation_id", "client_msg_id"):
        existing = by_client_msg_id(db, conversation, client_msg_id)
        assert existing is not None  # the conversation is locked: it cannot have gone
        return existing
    if not started:
        conversation.last_seq = message.seq
        conversation.updated_at = now
    # the open sockets hear of it once the transaction commits (never of a rolled-back one);
    # a change of the conversation's status made before it follows it, as when each message
    # was flushed with the conversation (``live._announce``)
    bus.after_commit(db, channel(conversation.id), message_payload(message))
    if status_changed(conversation):
        db.flush()
    return message


def status_changed(conversation: Conversation) -> bool:
    """Whether the conversation's status or person changed since it was last flushed. Not
    through ``inspect(conversation).attrs``: that builds an object per column, each pointing
    back at the conversation's state, a cycle only the collector frees, so every message
    left its conversation behind as garbage (~25 objects, bench/chat.py)."""
    return any(
        get_history(conversation, name, PassiveFlag.PASSIVE_NO_INITIALIZE).has_changes()
        for name in ("status", "assigned_staff_id")
    )


def messages(
    db: Session,
    conversation: Conversation,
    *,
    after_seq: int = 0,
    include_internal: bool = False,
    limit: int = 500,
) -> list[ChatMessage]:
    query = (
        select(ChatMessage)
        .where(ChatMessage.conversation_id == conversation.id, ChatMessage.seq > after_seq)
        .order_by(ChatMessage.seq)
        .limit(limit)
    )
    if not include_internal:
        query = query.where(ChatMessage.internal.is_(False))
    return list(db.scalars(query))


def copy_to_case(db: Session, conversation: Conversation) -> None:
    """The conversation's messages not yet on its case's timeline join it, each as the
    message it was (who, when, public or internal), so the case tells one story across
    channels. Called after every change to a conversation that has a case."""
    if conversation.case_id is None or conversation.case_synced_seq >= conversation.last_seq:
        return
    case = db.get(Case, conversation.case_id)
    if case is None:
        return
    staff: dict[int, StaffUser | None] = {}
    fresh = messages(
        db, conversation, after_seq=conversation.case_synced_seq, include_internal=True
    )
    for message in fresh:
        if message.data.get("summary") and conversation.channel in SUMMARY_BY_TEXT:
            continue  # on the case once, as the summary sent to the customer
        case_conversation.chat_message(
            db,
            case,
            text=message.text,
            actor=_author(db, conversation, message, case.customer_id, staff),
            internal=message.internal,
            conversation_id=conversation.id,
            seq=message.seq,
            at=message.created_at,
        )
    if fresh:
        conversation.case_synced_seq = fresh[-1].seq


def _author(
    db: Session,
    conversation: Conversation,
    message: ChatMessage,
    customer_id: int,
    staff: dict[int, StaffUser | None],
) -> audit.Actor:
    if message.sender == "customer":
        return audit.Actor(name=f"customer:{customer_id}", role="customer")
    if message.sender == "bot":
        return audit.Actor(name=f"assistant:conversation:{conversation.id}", role="assistant")
    if message.sender == "agent" and message.staff_id is not None:
        if message.staff_id not in staff:
            staff[message.staff_id] = db.get(StaffUser, message.staff_id)
        user = staff[message.staff_id]
        if user is not None:
            return audit.Actor(name=f"staff:{user.username}", role=user.role)
    return audit.Actor.system()


def conversations_of(db: Session, customer_id: int, *, limit: int = 20) -> list[Conversation]:
    """A customer's conversations, newest first, for the agent's customer view."""
    return list(
        db.scalars(
            select(Conversation)
            .where(Conversation.customer_id == customer_id)
            .order_by(Conversation.created_at.desc(), Conversation.id.desc())
            .limit(limit)
        )
    )
