"""The inbound SMTP server (aiosmtpd): accepts mail for Kefu's addresses and stores it.

It answers ``250`` only after the mail is committed, and ``451`` (try again later) when the
database cannot take it, so the sending server keeps the mail and retries: nothing is lost
on our side. Mail for other addresses is refused at RCPT; mail over ``KEFU_SMTP_MAX_BYTES``
is refused by aiosmtpd with ``552``. It listens on loopback unless told otherwise: put the
company's MX or relay in front of it (docs/email.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from kefu.config import Settings

log = logging.getLogger("kefu.channels")


@dataclass(frozen=True)
class Recipients:
    """``support@kefu-wallet.com.cn`` accepts that address; ``@kefu-wallet.com.cn`` the whole
    domain."""

    addresses: frozenset[str]
    domains: frozenset[str]

    @classmethod
    def parse(cls, spec: str) -> Recipients:
        entries = [e.strip().lower() for e in spec.split(",") if e.strip()]
        return cls(
            addresses=frozenset(e for e in entries if not e.startswith("@")),
            domains=frozenset(e[1:] for e in entries if e.startswith("@")),
        )

    def accepts(self, address: str) -> bool:
        address = address.strip().strip("<>").lower()
        return address in self.addresses or address.rpartition("@")[2] in self.domains


# (raw bytes, envelope sender, envelope recipients) -> stored mail id; commits
Store = Callable[[bytes, str, list[str]], int]


class MailHandler:
    def __init__(self, *, recipients: Recipients, store: Store) -> None:
        self.recipients = recipients
        self.store = store

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if not self.recipients.accepts(address):
            return "550 5.1.1 Recipient not accepted here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        if not raw:
            return "554 5.6.0 Empty message"
        try:
            mail_id = await asyncio.to_thread(
                self.store, raw, envelope.mail_from or "", list(envelope.rcpt_tos)
            )
        except Exception:
            log.exception("inbound mail could not be stored; the sender will retry")
            return "451 4.3.0 Mail not stored, try again later"
        return f"250 2.0.0 OK queued as {mail_id}"


def store_and_enqueue(raw: bytes, envelope_from: str, envelope_to: list[str]) -> int:
    """Commit the raw mail, then queue its processing; a lost enqueue is picked up by the
    ``resume_inbound_mail`` job, so the commit is what makes the mail safe."""
    from kefu import jobs
    from kefu.db import get_sessionmaker, utcnow
    from kefu.inbound.email import intake

    with get_sessionmaker()() as db:
        row = intake.receive(
            db,
            raw=raw,
            source="smtp",
            envelope_from=envelope_from,
            envelope_to=envelope_to,
            now=utcnow(),
        )
        db.commit()
        mail_id = row.id
    try:
        jobs.enqueue("process_inbound_mail", mail_id)
    except Exception:
        log.exception("mail %s stored but not queued; resume_inbound_mail will queue it", mail_id)
    return mail_id


def build_controller(
    settings: Settings,
    *,
    store: Store = store_and_enqueue,
    host: str | None = None,
    port: int | None = None,
) -> Controller:
    handler = MailHandler(recipients=Recipients.parse(settings.smtp_recipients), store=store)
    options: dict[str, Any] = {"data_size_limit": settings.smtp_max_bytes, "decode_data": False}
    return Controller(
        handler,
        hostname=host or settings.smtp_host,
        port=port or settings.smtp_port,
        server_hostname="kefu",
        **options,
    )
