"""Telling people about a case: staff in the console, customers by SMS or e-mail.

Every notification is a ``case_notification`` row and a timeline event. A customer message
is handed to the configured sender at once (the outbox records it); a staff notification
waits in the console until read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from kefu import audit
from kefu.cases import timeline
from kefu.cases.models import Case, CaseNotification
from kefu.channels.message import OutgoingMessage
from kefu.channels.senders import Senders
from kefu.config import Settings
from kefu.db import insert_now
from kefu.i18n import Lang, normalise_lang, translate, zone_label
from kefu.notifications import service as notifications

# case notification kind -> the staff notification's kind (SLA warnings and breaches are
# "sla"); a follow-up reminder is about the SLA of a case someone owns
_STAFF_KINDS = {
    "escalated": "escalation",
    "reminder": "sla",
    "customer_reply": "customer_reply",
    "mention": "mention",
    "assignment": "assignment",
}


def local_time(moment: datetime, settings: Settings) -> str:
    """How a time is written to customers: service time zone, minutes, zone named."""
    return moment.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")


def case_lang(case: Case) -> Lang:
    return normalise_lang(case.language) or "zh-CN"


def committed_sentence(case: Case, settings: Settings, lang: Lang | None = None) -> str:
    return translate(
        "case.committed_time",
        lang or case_lang(case),
        reference=case.reference,
        time=local_time(case.committed_at, settings),
        zone=zone_label(settings.timezone, lang or case_lang(case)),
    )


def notify_staff(
    db: Session,
    case: Case,
    *,
    kind: str,
    recipient: str,
    staff_user_id: int | None,
    body: str,
    now: datetime,
    actor: audit.Actor,
) -> CaseNotification:
    note = CaseNotification(
        case_id=case.id,
        kind=kind,
        recipient=recipient,
        staff_user_id=staff_user_id,
        channel="console",
        body=body,
        created_at=now,
    )
    db.add(note)
    db.flush()
    timeline.add_event(
        db,
        case,
        kind="notification",
        actor=actor,
        now=now,
        body=body,
        data={"notification": kind, "recipient": recipient, "staff_user_id": staff_user_id},
    )
    if staff_user_id is not None:
        notifications.notify(
            db,
            staff_id=staff_user_id,
            kind=_STAFF_KINDS.get(kind, "sla"),
            body=body,
            link=case_link(case),
            now=now,
        )
    return note


def case_link(case: Case) -> str:
    """The case's page in the console."""
    return f"/console/cases/{case.reference}"


def notify_customer(
    db: Session,
    case: Case,
    *,
    kind: str,
    text_key: str,
    now: datetime,
    settings: Settings,
    senders: Senders,
    actor: audit.Actor,
    addressee: Addressee | None = None,
    **params: Any,
) -> CaseNotification | None:
    """Send ``text_key`` to the customer on the case, by SMS if they have a phone, else by
    e-mail; None when the customer has neither."""
    body = translate(text_key, case_lang(case), reference=case.reference, **params)
    return send_to_customer(
        db, case, kind=kind, body=body, now=now, senders=senders, actor=actor, addressee=addressee
    )


class Addressee(Protocol):
    """Where the case's customer is told: a ``Customer``, or the few columns of one read
    for a new case (``identity.service.CustomerContact``), which needs no ORM object."""

    @property
    def phone(self) -> str | None: ...

    @property
    def email(self) -> str | None: ...


def reachable(case: Case, addressee: Addressee | None = None) -> bool:
    """Whether ``send_to_customer`` reaches the customer on the case (a phone or an e-mail);
    ``addressee``: that customer's phone and e-mail when in hand."""
    customer = addressee or case.customer
    return bool(customer.phone or customer.email)


def send_to_customer(
    db: Session,
    case: Case,
    *,
    kind: str,
    body: str,
    now: datetime,
    senders: Senders,
    actor: audit.Actor,
    addressee: Addressee | None = None,
) -> CaseNotification | None:
    """Send a written text to the customer on the case (SMS if they have a phone, else
    e-mail), recorded as a notification and a public timeline event. ``addressee``: that
    customer's phone and e-mail when in hand (else the case's customer is read)."""
    customer = addressee or case.customer
    lang = case_lang(case)
    channel: str
    if customer.phone:
        channel, to = "sms", customer.phone
        sent = senders.sms.send(db, OutgoingMessage(to=to, purpose="case_update", body=body))
    elif customer.email:
        channel, to = "email", customer.email
        subject = translate("case.mail_subject", lang, reference=case.reference)
        sent = senders.email.send(
            db, OutgoingMessage(to=to, purpose="case_update", body=body, subject=subject)
        )
    else:
        return None
    note = CaseNotification(
        case_id=case.id,
        kind=kind,
        recipient="customer",
        channel=channel,
        body=body,
        outbox_message_id=sent.id,
        created_at=now,
        read_at=now,
    )
    insert_now(db, note)  # a record of what was sent: nothing reads it back as an object
    case.last_customer_update_at = now
    timeline.add_event(
        db,
        case,
        kind="notification",
        actor=actor,
        now=now,
        visibility=timeline.PUBLIC,
        body=body,
        data={"notification": kind, "recipient": "customer", "channel": channel},
    )
    return note
