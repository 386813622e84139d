"""The IMAP adapter: production can point Kefu at a mailbox instead of routing mail to
the SMTP server. The ``fetch_imap`` job calls ``fetch`` every minute.

Each unseen mail is stored raw and committed first, then flagged ``\\Seen`` on the server;
a stop between the two fetches it again next time, and the Message-ID check in the thread
index keeps it from becoming a second message.
"""

from __future__ import annotations

import imaplib
import logging
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from kefu.config import Settings
from kefu.db import utcnow
from kefu.errors import ConfigError
from kefu.inbound.email import intake

log = logging.getLogger("kefu.channels")
BATCH = 50
TIMEOUT_SECONDS = 30


def connect(settings: Settings) -> imaplib.IMAP4:
    if not (settings.imap_user and settings.imap_password):
        raise ConfigError("KEFU_IMAP_HOST is set; it needs KEFU_IMAP_USER and KEFU_IMAP_PASSWORD")
    cls = imaplib.IMAP4_SSL if settings.imap_ssl else imaplib.IMAP4
    client = cls(settings.imap_host, settings.imap_port, timeout=TIMEOUT_SECONDS)
    try:
        client.login(settings.imap_user, settings.imap_password)
    except imaplib.IMAP4.error:
        client.shutdown()
        raise ConfigError(
            f"the IMAP server refused KEFU_IMAP_USER={settings.imap_user!r} with its password"
        ) from None
    return client


def _raw_of(parts: list[Any]) -> bytes | None:
    for part in parts:
        if isinstance(part, tuple) and len(part) == 2 and isinstance(part[1], bytes):
            return part[1]
    return None


def fetch(settings: Settings, sessions: sessionmaker[Session]) -> list[int]:
    """Store up to ``BATCH`` unseen mails; returns their inbound mail ids."""
    client = connect(settings)
    stored: list[int] = []
    try:
        status, _ = client.select(settings.imap_folder)
        if status != "OK":
            raise ConfigError(f"KEFU_IMAP_FOLDER={settings.imap_folder!r} cannot be opened")
        _, found = client.uid("SEARCH", "UNSEEN")
        uids = [uid.decode() for uid in (found[0] or b"").split()[:BATCH]] if found else []
        for uid in uids:
            _, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = _raw_of(parts)
            if raw is None:
                log.warning("imap message uid %s had no body; left unseen", uid)
                continue
            with sessions() as db:
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
