"""SMS and e-mail backends: chosen by settings, and only the outbox keeps a code."""

from __future__ import annotations

import logging
import socketserver
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.app import create_app
from kefu.channels import email, sms
from kefu.channels.email.smtp import SmtpSender
from kefu.channels.message import OutgoingMessage
from kefu.channels.models import OutboxMessage
from kefu.channels.senders import build_senders
from kefu.config import Settings
from kefu.errors import ConfigError, DeliveryFailed

CODE = "482913"
MESSAGE = OutgoingMessage(
    to="amy@example.com",
    purpose="otp",
    subject=f"Code {CODE}",
    body=f"Your verification code is {CODE}.",
    secrets=(CODE,),
)


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough of SMTP for smtplib.send_message; keeps each message's DATA."""

    def handle(self) -> None:
        self.wfile.write(b"220 test ready\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"DATA":
                self.wfile.write(b"354 go ahead\r\n")
                data = b""
                while (chunk := self.rfile.readline()) != b".\r\n":
                    data += chunk
                self.server.received.append(message_from_bytes(data))  # type: ignore[attr-defined]
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_relay() -> Iterator[tuple[int, list[Message]]]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.daemon_threads = True
    received: list[Message] = []
    server.received = received  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], received
    finally:
        server.shutdown()
        server.server_close()


def test_default_backends_are_the_outbox(settings: Settings) -> None:
    senders = build_senders(settings)
    assert (senders.sms.backend, senders.email.backend) == ("outbox", "outbox")


def test_unknown_backend_names_the_variable_and_the_choices(settings: Settings) -> None:
    with pytest.raises(ConfigError, match=r"KEFU_SMS_BACKEND='twillio'.*\['outbox'\]"):
        sms.build_sender(settings.model_copy(update={"sms_backend": "twillio"}))
    with pytest.raises(ConfigError, match=r"KEFU_EMAIL_BACKEND='smtps'.*\['outbox', 'smtp'\]"):
        email.build_sender(settings.model_copy(update={"email_backend": "smtps"}))


def test_app_refuses_to_start_with_an_unknown_backend(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="KEFU_EMAIL_BACKEND"):
        create_app(settings.model_copy(update={"email_backend": "sendgrid"}))


def test_smtp_backend_needs_its_relay_and_sender(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="KEFU_SMTP_RELAY_HOST and KEFU_EMAIL_FROM"):
        email.build_sender(settings.model_copy(update={"email_backend": "smtp"}))


def test_outbox_backend_keeps_the_text_and_logs_no_code(
    db: Session, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    row = build_senders(settings).email.send(db, MESSAGE)
    assert (row.backend, row.channel, row.body, row.subject) == (
        "outbox",
        "email",
        MESSAGE.body,
        MESSAGE.subject,
    )
    assert "a***@example.com" in caplog.text
    assert CODE not in caplog.text and "amy@" not in caplog.text


def test_smtp_backend_sends_the_code_but_keeps_it_masked(
    db: Session,
    settings: Settings,
    smtp_relay: tuple[int, list[Message]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    port, received = smtp_relay
    sender = email.build_sender(
        settings.model_copy(
            update={
                "email_backend": "smtp",
                "smtp_relay_host": "127.0.0.1",
                "smtp_relay_port": port,
                "email_from": "Kefu <kefu@example.org>",
            }
        )
    )
    assert isinstance(sender, SmtpSender)
    row = sender.send(db, MESSAGE)
    assert len(received) == 1
    assert received[0]["To"] == "amy@example.com"
    assert CODE in str(received[0].get_payload())
    stored = db.scalars(select(OutboxMessage).where(OutboxMessage.id == row.id)).one()
    assert stored.backend == "smtp"
    assert stored.body == "Your verification code is ******."
    assert stored.subject == "Code ******"
    assert stored.provider_id == received[0]["Message-ID"]
    assert CODE not in caplog.text


def test_smtp_relay_down_is_a_delivery_failure(db: Session, settings: Settings) -> None:
    with socketserver.TCPServer(("127.0.0.1", 0), socketserver.BaseRequestHandler) as probe:
        closed_port = probe.server_address[1]
    sender = SmtpSender(
        settings.model_copy(
            update={
                "smtp_relay_host": "127.0.0.1",
                "smtp_relay_port": closed_port,
                "email_from": "kefu@example.org",
            }
        )
    )
    with pytest.raises(DeliveryFailed):
        sender.send(db, MESSAGE)
    assert db.scalars(select(OutboxMessage)).first() is None


def test_message_repr_hides_text_and_secrets() -> None:
    assert CODE not in repr(MESSAGE)
