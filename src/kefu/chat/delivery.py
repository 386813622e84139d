"""Chat messages for customers who are not on a socket.

A customer in the web widget or the app reads the conversation over its socket. A customer
who wrote on WeChat (and later Weibo, or SMS) only gets what is pushed through that channel's
API, so live chat hands every message a person writes for the customer — an agent's reply,
"agent joined", "chat ended" — to ``relay``, and the conversation's channel decides.

A channel plugs in with ``register``: one function that records the message for sending
once the transaction commits. The channels live in ``kefu.inbound``, above chat, and
register when their package is imported (``kefu.inbound.wechat``); every process that can
write in a channel's conversation imports it — the app mounts its webhook, the job consumer
loads its jobs (``kefu.jobs``).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from kefu.chat.models import ChatMessage, Conversation

Relay = Callable[[Session, Conversation, ChatMessage], object]
_RELAYS: dict[str, Relay] = {}


def register(channel: str, send: Relay) -> None:
    """``send`` takes the messages for conversations on ``channel``."""
    _RELAYS[channel] = send


def relay(db: Session, conversation: Conversation, message: ChatMessage) -> None:
    """Send ``message`` to the customer by their channel, if it needs sending at all."""
    if message.internal or message.sender not in ("agent", "system"):
        return
    send = _RELAYS.get(conversation.channel)
    if send is not None:
        send(db, conversation, message)
