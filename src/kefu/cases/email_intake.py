"""A customer's mail as a case message: which case it joins, or the case it opens.

Matching, in order: a valid reference in the subject (a mistyped check character matches
nothing), then the case of the mail it answers (the channel looks up In-Reply-To and
References). A mail joins a case only when its sender is that case's customer: quoting
someone else's reference or Message-ID opens a new case instead, so a stranger can neither
write into another customer's case nor receive its replies.

A sender whose address no customer registered gets a stand-in customer
(``identity_service.mail_contact``) and the case carries an internal note that the identity
is unverified; nothing on it counts as verified for account actions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from kefu import audit
from kefu.cases import conversation, notify, service
from kefu.cases.categories import Category
from kefu.cases.errors import CaseNotFound
from kefu.cases.models import Case
from kefu.cases.refs import ReferenceInvalid, ReferenceMistyped, canonical
from kefu.config import Settings
from kefu.db import utcnow
from kefu.i18n import Lang, translate, zone_label
from kefu.identity import service as identity_service

_REFERENCE = re.compile(
    r"(?<![0-9A-Za-z])[KkＫｋ][FfＦｆ][\s\-_－]*[0-9０-９]{4}[\s\-_－]*[0-9A-Za-z]{5}[\s\-_－]*[0-9A-Za-z]"
)
_CJK = re.compile(r"[\u4e00-\u9fff]")
# Screenshots and documents customers send as evidence; anything else is refused.
ATTACHMENT_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"}
)


def reference_in(text: str) -> str | None:
    """The first well-formed reference with a matching check character in ``text``."""
    for match in _REFERENCE.finditer(text):
        try:
            return canonical(match.group(0))
        except (ReferenceInvalid, ReferenceMistyped):
            continue
    return None


def language_of(text: str) -> Lang:
    return "zh-CN" if _CJK.search(text) else "en"


@dataclass(frozen=True)
class Taken:
    case: Case
    verified: bool  # the sender's address is a registered customer's
    joined: bool  # added to a case that existed


def _staff_lang(settings: Settings) -> Lang:
    return settings.default_language


def take_mail(
    db: Session,
    *,
    address: str,
    name: str,
    subject: str,
    text: str,
    thread_reference: str | None,
    language: Lang,
    settings: Settings,
    now: datetime,
) -> Taken:
    customer = identity_service.find_customer_by_contact(db, address)
    verified = customer is not None and not identity_service.is_mail_contact(customer)
    if customer is None:
        customer = identity_service.mail_contact(db, address=address, name=name)
    quoted_elsewhere: str | None = None
    for reference in filter(None, (reference_in(subject), thread_reference)):
        try:
            case = service.get_case(db, reference, for_update=True)
        except CaseNotFound:
            continue
        if case.customer_id != customer.id:
            quoted_elsewhere = reference
            continue
        landed = conversation.customer_message(
            db, case, body=text, channel="email", settings=settings, now=now
        )
        return Taken(case=landed, verified=verified, joined=landed.id == case.id)
    actor = audit.Actor(name=f"customer:{customer.id}", role="customer")
    case = service.open_case(
        db,
        new=service.NewCase(
            customer_id=customer.id,
            category=Category.OTHER.value,
            channel="email",
            subject=subject,
            description=text,
            language=customer.language if verified else language,
        ),
        actor=actor,
        settings=settings,
        now=now,
    )
    system = audit.Actor.system()
    if not verified:
        service.add_note(
            db,
            case,
            body=translate("case.email_unverified_note", _staff_lang(settings)),
            actor=system,
            now=now,
        )
    if quoted_elsewhere is not None:
        service.add_note(
            db,
            case,
            body=translate(
                "case.email_foreign_reference_note",
                _staff_lang(settings),
                reference=quoted_elsewhere,
            ),
            actor=system,
            now=now,
        )
    return Taken(case=case, verified=verified, joined=False)


def acknowledgement(case: Case, *, refused: int, settings: Settings) -> str:
    """The first mail back: the reference, the committed time, and what was refused."""
    lang = notify.case_lang(case)
    text = translate(
        "email.acknowledgement",
        lang,
        reference=case.reference,
        time=notify.local_time(case.committed_at, settings),
        zone=zone_label(settings.timezone, lang),
    )
    if refused:
        text += "\n\n" + translate("email.acknowledgement_refused", lang, count=refused)
    return text


def note_refused_attachment(
    db: Session, case: Case, *, filename: str, reason: str, now: datetime
) -> None:
    service.add_note(
        db,
        case,
        body=translate(
            "case.email_attachment_refused",
            notify.case_lang(case),
            filename=filename,
            reason=reason,
        ),
        actor=audit.Actor.system(),
        now=now,
    )


def mail_reply(db: Session, case: Case, *, body: str, settings: Settings) -> list[int]:
    """Queue a staff reply in the case's mail thread (or to the customer's registered
    address); the ids go to the send job after the commit."""
    from kefu.channels.email import outgoing

    customer = identity_service.get_customer(db, case.customer_id)
    queued = outgoing.queue_reply(
        db,
        case_reference=case.reference,
        subject=case.subject,
        body=body,
        purpose="reply",
        settings=settings,
        now=utcnow(),
        fallback_address=customer.email,
    )
    return [queued.id] if queued is not None else []
