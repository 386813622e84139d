"""Inbound mail: stored raw first, then turned into a case message by a job.

``receive`` only stores: it runs inside the SMTP conversation (or the IMAP fetch), so the
sending server hears "250 OK" only once the mail is safely in the database. ``process``
then parses it and hands it to the cases domain. A mail that cannot be parsed, or whose
processing fails, stays raw with status ``failed`` and the reason, for a person to read
(``kefu mail failed``) and retry (``kefu mail retry``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.utils import parseaddr

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu import audit
from kefu.cases import attachments as case_attachments
from kefu.cases import email_intake as cases_email
from kefu.channels.email import outgoing
from kefu.config import Settings
from kefu.errors import KefuError, NotFound
from kefu.i18n import translate
from kefu.inbound.email.models import InboundMail
from kefu.inbound.email.parse import (
    Attachment,
    MailUnreadable,
    decode_words,
    parse_mail,
    strip_quoted,
)
from kefu.masking import mask_destination
from kefu.sensitive import mask
from kefu.storage import build_storage

log = logging.getLogger("kefu.channels")


def receive(
    db: Session,
    *,
    raw: bytes,
    source: str,
    envelope_from: str,
    envelope_to: list[str],
    now: datetime,
) -> InboundMail:
    """Keep the mail as it came. The headers shown in lists are read leniently; when even
    that fails the mail is still kept, flagged, so the sender is never asked to retry a mail
    that would fail again (451 on every retry until it bounces)."""
    error = None
    try:
        headers = message_from_bytes(raw, policy=policy.compat32)
        message_id = _clean(headers.get("Message-ID") or "")[:250] or None
        from_address = parseaddr(decode_words(headers.get("From")))[1] or envelope_from
        subject = decode_words(headers.get("Subject"))
    except Exception as exc:  # any header at all: the raw mail must be stored regardless
        log.warning("mail headers unreadable (%s); kept raw", type(exc).__name__)
        message_id, from_address, subject = None, envelope_from, ""
        error = "headers unreadable"
    row = InboundMail(
        source=source,
        message_id=message_id,
        from_address=_clean(from_address).lower()[:254],
        to_address=_clean(", ".join(envelope_to))[:254],
        subject=mask(subject)[:200] if subject else None,
        size=len(raw),
        sha256=hashlib.sha256(raw).hexdigest(),
        raw=raw,
        status="received",
        error=error,
        received_at=now,
    )
    db.add(row)
    db.flush()
    log.info(
        "mail %s received by %s from %s (%s bytes)",
        row.id,
        source,
        mask_destination(row.from_address),
        row.size,
    )
    return row


def _clean(text: str) -> str:
    """A header value as stored: no NUL, which PostgreSQL text refuses."""
    return str(text).replace("\x00", "\ufffd").strip()


@dataclass
class Processed:
    status: str
    case_reference: str | None = None
    outgoing_ids: list[int] = field(default_factory=list)


def _attachment_problem(attachment: Attachment, settings: Settings) -> str | None:
    """Why an attachment is refused (a catalogue key), or None to keep it."""
    if attachment.content_type not in cases_email.ATTACHMENT_TYPES:
        return "email.attachment_type_refused"
    if attachment.size > settings.attachment_max_bytes:
        return "email.attachment_too_large"
    if attachment.size == 0:
        return "email.attachment_empty"
    return None


def process(db: Session, *, mail_id: int, settings: Settings, now: datetime) -> Processed:
    """Turn a received mail into a case message. Running it twice does nothing more."""
    row = db.get(InboundMail, mail_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no inbound mail {mail_id}")
    if row.status != "received" or row.raw is None:
        return Processed(status=row.status, case_reference=row.case_reference)
    try:
        mail = parse_mail(row.raw)
    except MailUnreadable as exc:
        return _fail(row, exc.reason, now)
    if mail.message_id and (known := outgoing.find_case_reference(db, [mail.message_id])):
        # the same mail delivered twice (an IMAP refetch, a relay retry): already on the case
        row.status, row.case_reference, row.processed_at, row.raw = "processed", known, now, None
        row.notes = json.dumps({"duplicate": mail.message_id})
        db.flush()
        return Processed(status="processed", case_reference=known)
    lang = cases_email.language_of(mail.subject + "\n" + mail.text)
    kept = [a for a in mail.attachments if _attachment_problem(a, settings) is None]
    refused = [
        {"filename": a.filename, "content_type": a.content_type, "size": a.size, "reason": key}
        for a in mail.attachments
        if (key := _attachment_problem(a, settings)) is not None
    ]
    text = mail.text
    thread_reference = outgoing.find_case_reference(db, mail.thread_ids)
    if thread_reference is not None or cases_email.reference_in(mail.subject):
        text = strip_quoted(mail.text) or mail.text
    if not text.strip():
        text = translate("email.attachments_only", lang, count=len(mail.attachments))
    try:
        with db.begin_nested():
            taken = cases_email.take_mail(
                db,
                address=mail.from_address,
                name=mail.from_name,
                subject=mail.subject or translate("email.no_subject", lang),
                text=text,
                thread_reference=thread_reference,
                language=lang,
                settings=settings,
                now=now,
            )
            storage = build_storage(settings)
            sender = audit.Actor(name=f"customer:{taken.case.customer_id}", role="customer")
            for attachment in kept:
                try:
                    case_attachments.add_attachment(
                        db,
                        taken.case,
                        filename=attachment.filename,
                        data=attachment.data,
                        actor=sender,
                        settings=settings,
                        storage=storage,
                        now=now,
                    )
                except KefuError:
                    # the bytes are not what the mail claimed: refused like a wrong type
                    refused.append(
                        {
                            "filename": attachment.filename,
                            "content_type": attachment.content_type,
                            "size": attachment.size,
                            "reason": "email.attachment_type_refused",
                        }
                    )
            for item in refused:
                cases_email.note_refused_attachment(
                    db,
                    taken.case,
                    filename=str(item["filename"]),
                    reason=translate(
                        str(item["reason"]),
                        lang,
                        type=item["content_type"],
                        max=settings.attachment_max_bytes // (1024 * 1024),
                    ),
                    now=now,
                )
    except KefuError as exc:
        return _fail(row, f"the case could not take it: {exc.code}", now)
    reference = taken.case.reference
    if mail.message_id:
        outgoing.record_received(
            db,
            case_reference=reference,
            message_id=mail.message_id,
            in_reply_to=mail.in_reply_to,
            references=mail.references,
            address=mail.from_address,
            subject=mail.subject,
            inbound_mail_id=row.id,
            now=now,
        )
    result = Processed(
        status="processed" if taken.verified else "unverified", case_reference=reference
    )
    if not taken.joined:
        ack = outgoing.queue_reply(
            db,
            case_reference=reference,
            subject=mail.subject or translate("email.no_subject", lang),
            body=cases_email.acknowledgement(taken.case, refused=len(refused), settings=settings),
            purpose="acknowledgement",
            settings=settings,
            now=now,
            fallback_address=mail.from_address,
        )
        if ack is not None:
            result.outgoing_ids.append(ack.id)
    row.status = result.status
    row.case_reference = reference
    row.notes = json.dumps({"refused": refused}, ensure_ascii=False) if refused else None
    row.processed_at = now
    row.raw = None
    db.flush()
    log.info("mail %s is on case %s (%s)", row.id, reference, row.status)
    return result


def _fail(row: InboundMail, reason: str, now: datetime) -> Processed:
    row.status = "failed"
    row.error = reason[:300]
    row.processed_at = now
    log.warning("mail %s flagged for a person: %s", row.id, row.error)
    return Processed(status="failed")


def fail(db: Session, *, mail_id: int, reason: str, now: datetime) -> None:
    """Flag a mail whose processing broke for a person, raw bytes kept."""
    row = db.get(InboundMail, mail_id)
    if row is not None and row.status == "received":
        _fail(row, reason, now)
        db.flush()


def retry(db: Session, *, mail_id: int) -> InboundMail:
    """Put a failed mail back in line, after a person fixed what made it fail."""
    row = db.get(InboundMail, mail_id)
    if row is None:
        raise NotFound(f"no inbound mail {mail_id}")
    if row.status != "failed" or row.raw is None:
        raise KefuError(f"mail {mail_id} is {row.status}, not failed")
    row.status, row.error, row.processed_at = "received", None, None
    db.flush()
    return row


def failed(db: Session, *, limit: int = 50) -> list[InboundMail]:
    return list(
        db.scalars(
            select(InboundMail)
            .where(InboundMail.status == "failed")
            .order_by(InboundMail.id.desc())
            .limit(limit)
        )
    )


def waiting(db: Session, *, older_than: timedelta, now: datetime) -> list[int]:
    """Received mail whose job never ran (the process stopped between commit and enqueue)."""
    return list(
        db.scalars(
            select(InboundMail.id)
            .where(InboundMail.status == "received", InboundMail.received_at <= now - older_than)
            .order_by(InboundMail.id)
        )
    )
