"""The IMAP adapter: production can point Kefu at a mailbox instead of routing mail to
the SMTP server. The ``fetch_imap`` job calls ``fetch`` every minute.

Each unseen mail is stored raw and committed first, then flagged ``\\Seen`` on the server;
a stop between the two fetches it again next time, and the Message-ID check in the thread
index keeps it from becoming a second message.
"""

from __future__ import annotations

import imaplib
import logging
from collections.abc import Callable
from typing import Any, Protocol

from kefu.config import Settings
from kefu.db import get_sessionmaker, utcnow
from kefu.errors import ConfigError
from kefu.inbound.email import intake

log = logging.getLogger("kefu.channels")
BATCH = 50
TIMEOUT_SECONDS = 30


class ImapClient(Protocol):
    def login(self, user: str, password: str) -> Any: ...
    def select(self, mailbox: str = ...) -> tuple[str, list[Any]]: ...
    def uid(self, command: str, *args: Any) -> tuple[str, list[Any]]: ...
    def logout(self) -> Any: ...


def connect(settings: Settings) -> ImapClient:
    if not (settings.imap_user and settings.imap_password):
        raise ConfigError("KEFU_IMAP_HOST is set; it needs KEFU_IMAP_USER and KEFU_IMAP_PASSWORD")
    cls = imaplib.IMAP4_SSL if settings.imap_ssl else imaplib.IMAP4
    client = cls(settings.imap_host, settings.imap_port, timeout=TIMEOUT_SECONDS)
    client.login(settings.imap_user, settings.imap_password)
    return client


def _raw_of(parts: list[Any]) -> bytes | None:
    for part in parts:
        if isinstance(part, tuple) and len(part) == 2 and isinstance(part[1], bytes):
            return part[1]
    return None


def fetch(settings: Settings, *, connect: Callable[[Settings], ImapClient] = connect) -> list[int]:
    """Store up to ``BATCH`` unseen mails; returns their inbound mail ids."""
    client = connect(settings)
    stored: list[int] = []
    try:
        status, _ = client.select(settings.imap_folder)
        if status != "OK":
            raise ConfigError(f"KEFU_IMAP_FOLDER={settings.imap_folder!r} cannot be opened")
        _, found = client.uid("SEARCH", "UNSEEN")
        uids = (found[0] or b"").split()[:BATCH] if found else []
        for uid in uids:
            _, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = _raw_of(parts)
            if raw is None:
                log.warning("imap message uid %s had no body; left unseen", uid.decode())
                continue
            with get_sessionmaker()() as db:
                row = intake.receive(
                    db,
                    raw=raw,
                    source="imap",
                    envelope_from="",
                    envelope_to=[settings.imap_user],
                    now=utcnow(),
                )
                db.commit()
                stored.append(row.id)
            client.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    finally:
        client.logout()
    return stored
