"""A customer's reply on another channel joins their case.

We tell customers "reply to this message" (the resolved-case SMS, the complaint SMS, the
written summary after a contact), so a reply by SMS or WeChat is theirs to make: it joins
the case's timeline as the customer's message, reopens a resolved case (a closed one
within ``KEFU_CASE_REOPEN_DAYS``, later a linked follow-up case — ``conversation``), and
its owner is notified. Mail has its own matching by reference and thread
(``email_intake``), with the same effect.

Only the case's own customer is heard: an SMS counts when it comes from the phone number
registered to them (the number we texted), a WeChat message when the follower's chat about
the case was verified. Quoting a reference joins that case only if it is the sender's.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.cases import conversation, email_intake, service
from kefu.cases.errors import CaseNotFound
from kefu.cases.models import Case, CaseEvent, CaseNotification
from kefu.config import Settings
from kefu.identity import service as identity_service

_SAFE_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")


def _latest_texted(db: Session, customer_id: int) -> Case | None:
    """The case the customer was last told about by SMS."""
    return db.scalars(
        select(Case)
        .join(CaseNotification, CaseNotification.case_id == Case.id)
        .where(
            Case.customer_id == customer_id,
            CaseNotification.recipient == "customer",
            CaseNotification.channel == "sms",
        )
        .order_by(CaseNotification.created_at.desc(), CaseNotification.id.desc())
        .limit(1)
    ).first()


def by_sms(
    db: Session, *, number: str, body: str, settings: Settings, now: datetime
) -> Case | None:
    """The text joins the case it answers: the one it quotes, else the last one we texted
    about. None when the number is no customer's or they have no such case."""
    customer = identity_service.find_customer_by_contact(db, number)
    if customer is None or identity_service.is_mail_contact(customer):
        return None
    case: Case | None = None
    quoted = email_intake.reference_in(body)
    if quoted is not None:
        try:
            case = service.get_customer_case(db, customer_id=customer.id, reference=quoted)
        except CaseNotFound:
            case = None
    if case is None:
        case = _latest_texted(db, customer.id)
    if case is None:
        return None
    return conversation.customer_message(
        db, case, body=body, channel="sms", settings=settings, now=now
    )


def in_case(
    db: Session,
    *,
    case_id: int,
    customer_id: int,
    body: str,
    channel: str,
    message_id: str | None,
    settings: Settings,
    now: datetime,
) -> Case | None:
    """A message the channel has already tied to a case and its verified customer (a
    WeChat follower writing again after their chat about it ended). ``message_id`` is the
    channel's id of the message: one the case already holds (a retried delivery) is not
    added again."""
    case = db.get(Case, case_id, with_for_update=True)
    if case is None or case.customer_id != customer_id:
        return None
    if message_id is not None and _holds(db, case, channel, message_id):
        return case
    return conversation.customer_message(
        db,
        case,
        body=body,
        channel=channel,
        settings=settings,
        now=now,
        message_id=message_id,
    )


def _holds(db: Session, case: Case, channel: str, message_id: str) -> bool:
    """Whether the case's timeline has the channel's message already: its events carry
    the id in their JSON data (``conversation.customer_message``)."""
    if not _SAFE_ID.fullmatch(message_id):
        return False
    marker = json.dumps({"message_id": message_id})[1:-1]  # "message_id": "…"
    return (
        db.scalar(
            select(CaseEvent.id)
            .where(
                CaseEvent.case_id == case.id,
                CaseEvent.kind == "message",
                CaseEvent.data.contains(f'"channel": "{channel}"'),
                CaseEvent.data.contains(marker),
            )
            .limit(1)
        )
        is not None
    )
