"""The written summary a customer receives after every contact with a person (联络小结).

When a chat, a call or a mail exchange with an agent ends, the customer gets, in their
language: the case reference, what was done, what happens next and by when, and how to
follow up. ``draft`` fills it in from the case (its public account actions since the
contact began, its status and committed time); the agent reads it and may edit it before
``send`` records it on the timeline and sends it by SMS (or e-mail without a phone).

A mail exchange ends when the agent resolves the case of a mail thread: the resolve form
comes filled in with ``mail_draft``, and ``send_in_thread`` answers in the customer's own
mail thread instead of by SMS.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu import audit
from kefu.cases import email_intake, notify, timeline
from kefu.cases.models import Case, CaseEvent, CaseNotification
from kefu.channels.senders import Senders
from kefu.config import Settings
from kefu.errors import InvalidInput
from kefu.i18n import Lang, translate, zone_label
from kefu.sensitive import mask

Contact = Literal["chat", "call", "mail"]
# what the agent says happens to the case when the contact ends
Outcome = Literal["solved", "open", "waiting"]
OUTCOMES: tuple[Outcome, ...] = ("solved", "open", "waiting")
MAX_SUMMARY = 1000


def draft(
    db: Session,
    case: Case | None,
    *,
    contact: Contact,
    outcome: Outcome,
    since: datetime,
    settings: Settings,
    lang: Lang,
) -> str:
    """The summary as the system would send it, in the customer's language. Without a case
    (a customer who never proved who they are) it says so and how to come back."""
    if case is None:
        return "\n".join(
            [
                translate(f"summary.head.{contact}", lang),
                translate("summary.done.answered", lang),
                translate(f"summary.next.no_case.{outcome}", lang),
                translate("summary.follow_up.no_case", lang),
            ]
        )
    done = _actions_since(db, case, since)
    lines = [
        translate(f"summary.head.{contact}", lang)
        + " "
        + translate("summary.reference", lang, reference=case.reference),
        translate(
            "summary.done.actions", lang, actions=translate("summary.joiner", lang).join(done)
        )
        if done
        else translate("summary.done.looked_into", lang, subject=case.subject),
        translate(
            f"summary.next.{outcome}",
            lang,
            time=notify.local_time(case.committed_at, settings),
            zone=zone_label(settings.timezone, lang),
        ),
        translate("summary.follow_up", lang, reference=case.reference),
    ]
    return "\n".join(lines)


def _actions_since(db: Session, case: Case, since: datetime) -> list[str]:
    """What was done for the customer during the contact, in the words already told to
    them: the public texts of account actions recorded on the case."""
    rows = db.scalars(
        select(CaseEvent.body).where(
            CaseEvent.case_id == case.id,
            CaseEvent.kind == "action",
            CaseEvent.visibility == "public",
            CaseEvent.created_at >= since,
            CaseEvent.body.is_not(None),
        )
    )
    return [str(body).rstrip("。.") for body in rows if body]


def clean(text: str | None, fallback: str) -> str:
    """What the agent left in the form: their edit, or the draft when they emptied it."""
    value = (text or "").replace("\x00", " ").strip()
    if len(value) > MAX_SUMMARY:
        raise InvalidInput("the summary is too long", field="summary", max=MAX_SUMMARY)
    return mask(value) if value else fallback


def send(
    db: Session,
    case: Case,
    *,
    body: str,
    senders: Senders,
    actor: audit.Actor,
    now: datetime,
) -> None:
    """Send the summary to the customer of the case and keep it on the timeline."""
    notify.send_to_customer(
        db, case, kind="summary", body=body, now=now, senders=senders, actor=actor
    )


def mail_draft(db: Session, case: Case, *, settings: Settings) -> str:
    """The summary of a mail exchange resolved now, in the case's language: what was done
    for the customer over the whole case (the thread is the case)."""
    return draft(
        db,
        case,
        contact="mail",
        outcome="solved",
        since=case.created_at,
        settings=settings,
        lang=notify.case_lang(case),
    )


def send_in_thread(
    db: Session,
    case: Case,
    *,
    body: str,
    settings: Settings,
    actor: audit.Actor,
    now: datetime,
) -> list[int]:
    """Answer the summary in the case's mail thread and keep it on the timeline; returns
    the mail ids for the send job after the commit."""
    mailed = email_intake.mail_reply(db, case, body=body, settings=settings)
    if not mailed:
        return []
    db.add(
        CaseNotification(
            case_id=case.id,
            kind="summary",
            recipient="customer",
            channel="email",
            body=body,
            created_at=now,
            read_at=now,
        )
    )
    case.last_customer_update_at = now
    timeline.add_event(
        db,
        case,
        kind="notification",
        actor=actor,
        now=now,
        visibility=timeline.PUBLIC,
        body=body,
        data={"notification": "summary", "recipient": "customer", "channel": "email"},
    )
    return mailed
