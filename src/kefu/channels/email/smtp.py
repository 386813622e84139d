"""E-mail through an SMTP relay (a local MTA or the company's relay), no authentication."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr

from sqlalchemy.orm import Session

from kefu.channels import outbox
from kefu.channels.message import OutgoingMessage
from kefu.channels.models import OutboxMessage
from kefu.config import Settings
from kefu.errors import ConfigError, DeliveryFailed
from kefu.masking import mask_destination

log = logging.getLogger("kefu.channels")
TIMEOUT_SECONDS = 10


class SmtpSender:
    backend = "smtp"

    def __init__(self, settings: Settings) -> None:
        missing = [
            name
            for name, value in (
                ("KEFU_SMTP_RELAY_HOST", settings.smtp_relay_host),
                ("KEFU_EMAIL_FROM", settings.email_from),
            )
            if not value
        ]
        if missing:
            raise ConfigError(f"KEFU_EMAIL_BACKEND='smtp' needs {' and '.join(missing)}")
        self.host = settings.smtp_relay_host
        self.port = settings.smtp_relay_port
        self.sender = settings.email_from
        self.domain = parseaddr(self.sender)[1].rpartition("@")[2] or None

    def send(self, db: Session, message: OutgoingMessage) -> OutboxMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.to
        email["Subject"] = message.subject or ""
        message_id = message.message_id or make_msgid(domain=self.domain)
        email["Message-ID"] = message_id
        if message.in_reply_to:
            email["In-Reply-To"] = message.in_reply_to
        if message.references:
            email["References"] = " ".join(message.references)
        email.set_content(message.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_SECONDS) as smtp:
                smtp.send_message(email)
        except (OSError, smtplib.SMTPException) as exc:
            # The exception's text can quote the server's reply; its type is enough here.
            log.warning(
                "smtp relay %s:%s refused %s to %s: %s",
                self.host,
                self.port,
                message.purpose,
                mask_destination(message.to),
                type(exc).__name__,
            )
            raise DeliveryFailed("the e-mail could not be handed to the relay") from exc
        return outbox.store(
            db,
            channel="email",
            message=message,
            backend=self.backend,
            redacted=True,
            provider_id=message_id[:64],
        )
