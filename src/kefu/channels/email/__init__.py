"""The e-mail port. ``KEFU_EMAIL_BACKEND`` picks ``outbox`` or ``smtp``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sqlalchemy.orm import Session

from kefu.channels.email.smtp import SmtpSender
from kefu.channels.message import OutgoingMessage
from kefu.channels.models import OutboxMessage
from kefu.channels.outbox import OutboxSender
from kefu.config import Settings
from kefu.errors import ConfigError


class EmailSender(Protocol):
    backend: str

    def send(self, db: Session, message: OutgoingMessage) -> OutboxMessage: ...


_BACKENDS: dict[str, Callable[[Settings], EmailSender]] = {
    "outbox": lambda _settings: OutboxSender("email"),
    "smtp": SmtpSender,
}


def build_sender(settings: Settings) -> EmailSender:
    if settings.email_backend not in _BACKENDS:
        raise ConfigError(
            f"KEFU_EMAIL_BACKEND={settings.email_backend!r}; expected one of {sorted(_BACKENDS)}"
        )
    return _BACKENDS[settings.email_backend](settings)
