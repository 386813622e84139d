"""The SMS port. ``KEFU_SMS_BACKEND`` picks the backend; only ``outbox`` exists so far."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sqlalchemy.orm import Session

from kefu.channels.message import OutgoingMessage
from kefu.channels.models import OutboxMessage
from kefu.channels.outbox import OutboxSender
from kefu.config import Settings
from kefu.errors import ConfigError


class SmsSender(Protocol):
    backend: str

    def send(self, db: Session, message: OutgoingMessage) -> OutboxMessage: ...


_BACKENDS: dict[str, Callable[[Settings], SmsSender]] = {
    "outbox": lambda _settings: OutboxSender("sms"),
}


def build_sender(settings: Settings) -> SmsSender:
    if settings.sms_backend not in _BACKENDS:
        raise ConfigError(
            f"KEFU_SMS_BACKEND={settings.sms_backend!r}; expected one of {sorted(_BACKENDS)}"
        )
    return _BACKENDS[settings.sms_backend](settings)
