"""Mail Kefu sends on a case (acknowledgements, agent replies), queued then sent by a job.

Threading: a reply answers the latest mail the customer sent on the case (``In-Reply-To``)
and carries the thread's earlier Message-IDs (``References``, at most ``MAX_REFERENCES``),
so mail clients file it under the customer's own mail. The subject also carries the case
reference in brackets, which finds the case again when a client drops those headers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid, parseaddr

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kefu.channels.email.models import EmailMessage
from kefu.channels.message import OutgoingMessage
from kefu.channels.senders import Senders
from kefu.config import Settings
from kefu.errors import DeliveryFailed
from kefu.masking import mask_destination
from kefu.sensitive import mask

log = logging.getLogger("kefu.channels")

MAX_REFERENCES = 10
MAX_ATTEMPTS = 6  # the first try and huey's five retries
_REPLY_PREFIXES = ("re:", "回复:", "回复：", "答复:", "答复：")


def new_message_id(settings: Settings) -> str:
    domain = parseaddr(settings.email_from)[1].rpartition("@")[2]
    return make_msgid(domain=domain or "kefu.invalid")


def reply_subject(subject: str, reference: str) -> str:
    subject = " ".join(subject.split())
    if reference not in subject:
        subject = f"{subject} [{reference}]"
    if not subject.lower().startswith(_REPLY_PREFIXES):
        subject = f"Re: {subject}"
    return subject[:200]


@dataclass(frozen=True)
class Thread:
    address: str
    in_reply_to: str | None
    references: tuple[str, ...]


def thread_of(db: Session, case_reference: str) -> Thread | None:
    """Who to answer and how, from the latest mail the customer sent on the case."""
    last_in = db.scalar(
        select(EmailMessage)
        .where(EmailMessage.case_reference == case_reference, EmailMessage.direction == "in")
        .order_by(EmailMessage.id.desc())
        .limit(1)
    )
    if last_in is None:
        return None
    earlier = (last_in.references or "").split()
    chain = [ref for ref in earlier if ref != last_in.message_id] + [last_in.message_id]
    return Thread(
        address=last_in.address,
        in_reply_to=last_in.message_id,
        references=tuple(chain[-MAX_REFERENCES:]),
    )


def record_received(
    db: Session,
    *,
    case_reference: str,
    message_id: str,
    in_reply_to: str | None,
    references: Iterable[str],
    address: str,
    subject: str,
    inbound_mail_id: int,
    now: datetime,
) -> EmailMessage | None:
    """Index a customer's mail in the case thread; None when the Message-ID is known
    already (the same mail delivered twice)."""
    if db.scalar(select(EmailMessage.id).where(EmailMessage.message_id == message_id)):
        return None
    row = EmailMessage(
        case_reference=case_reference,
        direction="in",
        message_id=message_id[:250],
        in_reply_to=in_reply_to[:250] if in_reply_to else None,
        references=" ".join(list(references)[-MAX_REFERENCES:]) or None,
        address=address,
        subject=mask(subject)[:200],
        purpose="customer_mail",
        status="received",
        attempts=0,
        inbound_mail_id=inbound_mail_id,
        created_at=now,
        updated_at=now,
    )
    db.add(row)
    db.flush()
    return row


def find_case_reference(db: Session, message_ids: Iterable[str]) -> str | None:
    """The case of the first of ``message_ids`` (nearest first) Kefu sent or received."""
    for message_id in message_ids:
        found = db.scalar(
            select(EmailMessage.case_reference).where(EmailMessage.message_id == message_id)
        )
        if found is not None:
            return found
    return None


def queue(
    db: Session,
    *,
    case_reference: str,
    to: str,
    subject: str,
    body: str,
    purpose: str,
    settings: Settings,
    now: datetime,
    thread: Thread | None = None,
) -> EmailMessage:
    row = EmailMessage(
        case_reference=case_reference,
        direction="out",
        message_id=new_message_id(settings),
        in_reply_to=thread.in_reply_to if thread else None,
        references=" ".join(thread.references) if thread and thread.references else None,
        address=to,
        subject=reply_subject(subject, case_reference),
        body=mask(body),
        purpose=purpose,
        status="queued",
        attempts=0,
        created_at=now,
        updated_at=now,
    )
    db.add(row)
    db.flush()
    return row


def queue_reply(
    db: Session,
    *,
    case_reference: str,
    subject: str,
    body: str,
    purpose: str,
    settings: Settings,
    now: datetime,
    fallback_address: str | None = None,
) -> EmailMessage | None:
    """Answer in the case's mail thread, or start one to ``fallback_address``; None when
    there is no address to write to."""
    thread = thread_of(db, case_reference)
    address = thread.address if thread else fallback_address
    if not address:
        return None
    return queue(
        db,
        case_reference=case_reference,
        to=address,
        subject=subject,
        body=body,
        purpose=purpose,
        settings=settings,
        now=now,
        thread=thread,
    )


class SendFailed(Exception):
    """The relay refused or could not be reached; the job runner retries."""


def send(db: Session, *, email_message_id: int, senders: Senders, now: datetime) -> bool:
    """Hand one queued mail to the e-mail sender. Returns False when another worker has it
    or it went out already; raises ``SendFailed`` (after recording the try) to be retried."""
    claimed = db.execute(
        update(EmailMessage)
        .where(EmailMessage.id == email_message_id, EmailMessage.status == "queued")
        .values(status="sending", updated_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    row = db.get(EmailMessage, email_message_id)
    assert row is not None
    message = OutgoingMessage(
        to=row.address,
        purpose=f"case_{row.purpose}",
        body=row.body or "",
        subject=row.subject,
        message_id=row.message_id,
        in_reply_to=row.in_reply_to,
        references=tuple((row.references or "").split()),
    )
    row.attempts += 1
    try:
        sent = senders.email.send(db, message)
    except DeliveryFailed as exc:
        row.status = "failed" if row.attempts >= MAX_ATTEMPTS else "queued"
        row.last_error = str(exc)[:200]
        row.updated_at = now
        db.flush()
        log.warning(
            "mail %s to %s not sent (try %s): %s",
            row.id,
            mask_destination(row.address),
            row.attempts,
            row.status,
        )
        raise SendFailed(row.last_error) from exc
    row.status, row.sent_at, row.updated_at = "sent", now, now
    row.outbox_message_id = sent.id
    row.last_error = None
    db.flush()
    return True


def waiting(db: Session, *, older_than: timedelta, now: datetime) -> list[int]:
    """Queued mail nobody picked up (the process stopped between commit and enqueue)."""
    return list(
        db.scalars(
            select(EmailMessage.id)
            .where(EmailMessage.status == "queued", EmailMessage.updated_at <= now - older_than)
            .order_by(EmailMessage.id)
        )
    )
