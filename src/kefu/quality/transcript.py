"""What a reviewer reads beside the scorecard: the contact itself.

A contact is known by the identifiers its events carried (``conv:…``, ``call:…``,
``case:…``, ``QualityContactRef``): the conversation is shown as its messages (internal
notes marked), a call as its menu path, outcome and every step, a mail contact as the
case's mail thread; and the case it belongs to by its reference, linking to its page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.cases import service as cases_service
from kefu.cases import timeline
from kefu.chat import service as chat
from kefu.chat.models import Conversation
from kefu.i18n import Lang, translate
from kefu.quality.models import QualityContact, QualityContactRef
from kefu.voice import views as voice_views

MAX_LINES = 500


@dataclass(frozen=True)
class Line:
    at: datetime
    who: str
    text: str
    internal: bool = False


@dataclass
class ContactRecord:
    case_reference: str | None = None
    chat: list[Line] = field(default_factory=list)
    calls: list[voice_views.CallRecord] = field(default_factory=list)
    mail: list[Line] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.chat or self.calls or self.mail)


def _refs(db: Session, contact: QualityContact) -> list[str]:
    found = set(
        db.scalars(select(QualityContactRef.ref).where(QualityContactRef.contact_id == contact.id))
    )
    found.add(contact.key)
    return sorted(found)


def of_contact(db: Session, contact: QualityContact, lang: Lang) -> ContactRecord:
    record = ContactRecord(case_reference=contact.case_reference)
    if record.case_reference is None and contact.case_id is not None:
        record.case_reference = cases_service.references(db, [contact.case_id]).get(contact.case_id)
    for ref in _refs(db, contact):
        kind, _, value = ref.partition(":")
        if kind == "conv" and value.isdigit():
            conversation = db.get(Conversation, int(value))
            if conversation is not None:
                record.chat += _chat(db, conversation, lang)
        elif kind == "call" and value:
            call = voice_views.call_record(db, value, lang)
            if call is not None:
                record.calls.append(call)
    if contact.channel == "email" and record.case_reference is not None:
        record.mail = _mail(db, record.case_reference, lang)
    return record


def _chat(db: Session, conversation: Conversation, lang: Lang) -> list[Line]:
    lines = []
    for message in chat.messages(db, conversation, include_internal=True, limit=MAX_LINES):
        who = translate(f"quality.transcript.sender.{message.sender}", lang)
        name = message.data.get("agent_name") if message.sender == "agent" else None
        lines.append(
            Line(
                at=message.created_at,
                who=f"{who} {name}" if isinstance(name, str) else who,
                text=message.text,
                internal=message.internal,
            )
        )
    return lines


def _mail(db: Session, reference: str, lang: Lang) -> list[Line]:
    """The case's messages: what the customer mailed and what staff answered."""
    case = cases_service.get_case(db, reference)
    lines = []
    for event in timeline.events(db, case, public_only=True):
        if event.kind != "message" or not event.body:
            continue
        sender = "customer" if event.actor_role == "customer" else "agent"
        lines.append(
            Line(
                at=event.created_at,
                who=translate(f"quality.transcript.sender.{sender}", lang),
                text=event.body,
            )
        )
    return lines[-MAX_LINES:]
