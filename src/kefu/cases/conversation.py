"""Messages on a case and the status moves they cause.

A staff reply is the first response if none came before, and picks up a new case. A
customer message moves a case waiting on them back to open, reopens a resolved case, and
reopens a closed one within ``KEFU_CASE_REOPEN_DAYS``; later than that it opens a new case
linked to the old one, so the message is never lost.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from kefu import audit
from kefu.cases import notify, service, timeline
from kefu.cases.categories import Category
from kefu.cases.errors import CaseFinished
from kefu.cases.models import Case
from kefu.cases.transitions import FINISHED, Mover, Status
from kefu.channels.senders import Senders
from kefu.config import Settings
from kefu.db import utcnow
from kefu.errors import InvalidInput
from kefu.i18n import normalise_lang, translate
from kefu.identity import service as identity_service
from kefu.quality import case_hooks as quality_hooks

MAX_MESSAGE = 20_000
REPLY_EXCERPT = 80


def _text(body: str) -> str:
    if not body.strip():
        raise InvalidInput("a message needs text", field="body")
    if len(body) > MAX_MESSAGE:
        raise InvalidInput("message too long", field="body", max=MAX_MESSAGE)
    return body


def staff_reply(
    db: Session,
    case: Case,
    *,
    body: str,
    actor: audit.Actor,
    settings: Settings,
    then: Status | None = None,
    now: datetime | None = None,
    channel: str | None = None,
) -> Case:
    """A public reply; ``then`` moves the case on in the same step (e.g. pending_customer);
    ``channel`` says where it went (email, sms, app) for the timeline. It is recorded
    here; how it reaches the customer is the caller's (``work.reply``: the mail or SMS
    itself, or ``tell_reply`` for the app)."""
    now = now or utcnow()
    body = _text(body)
    if Status(case.status) in FINISHED:
        raise CaseFinished(f"case {case.reference} is {case.status}", reference=case.reference)
    timeline.add_event(
        db,
        case,
        kind="message",
        actor=actor,
        now=now,
        visibility=timeline.PUBLIC,
        body=body,
        data={"channel": channel} if channel else None,
    )
    if case.first_responded_at is None:
        case.first_responded_at = now
        quality_hooks.first_reply(db, case, actor=actor, now=now)
    if case.status == Status.NEW.value and then is None:
        then = Status.OPEN
    if then is not None and then.value != case.status:
        service.move(
            db, case, target=then, mover=Mover.STAFF, actor=actor, settings=settings, now=now
        )
    service.schedule_reindex(db, case)
    return case


def tell_reply(
    db: Session, case: Case, *, settings: Settings, senders: Senders, now: datetime | None = None
) -> None:
    """Tell the customer a reply waits for them in the app."""
    notify.notify_customer(
        db,
        case,
        kind="reply",
        text_key="case.reply_sent",
        now=now or utcnow(),
        settings=settings,
        senders=senders,
        actor=audit.Actor.system(),
    )


def customer_message(
    db: Session,
    case: Case,
    *,
    body: str,
    channel: str,
    settings: Settings,
    now: datetime | None = None,
    message_id: str | None = None,
) -> Case:
    """Add what the customer wrote; returns the case it landed on (a new one when the old
    case was closed too long ago). ``message_id``: the channel's id of the message, kept
    so a retried delivery is recognised."""
    now = now or utcnow()
    body = _text(body)
    actor = audit.Actor(name=f"customer:{case.customer_id}", role="customer")
    status = Status(case.status)
    if status is Status.CLOSED and not _within_reopen_window(case, settings, now):
        follow_up = service.open_case(
            db,
            new=service.NewCase(
                customer_id=case.customer_id,
                category=case.category,
                channel=channel,
                subject=case.subject,
                description=body,
                priority=case.priority,
                language=case.language,
            ),
            actor=actor,
            settings=settings,
            now=now,
        )
        follow_up.parent_id = case.id
        timeline.add_event(
            db,
            case,
            kind="link",
            actor=audit.Actor.system(),
            now=now,
            data={"follow_up_case": follow_up.reference},
        )
        _tell_owner(db, case, follow_up, body=body, channel=channel, now=now)
        return follow_up
    timeline.add_event(
        db,
        case,
        kind="message",
        actor=actor,
        now=now,
        visibility=timeline.PUBLIC,
        body=body,
        data={"channel": channel, **({"message_id": message_id} if message_id else {})},
    )
    if status in (Status.PENDING_CUSTOMER, Status.RESOLVED, Status.CLOSED):
        service.move(
            db,
            case,
            target=Status.OPEN,
            mover=Mover.CUSTOMER,
            actor=actor,
            settings=settings,
            now=now,
            reason=None,
        )
    _tell_owner(db, case, case, body=body, channel=channel, now=now)
    service.schedule_reindex(db, case)
    return case


def _tell_owner(
    db: Session, case: Case, landed: Case, *, body: str, channel: str, now: datetime
) -> None:
    """The owner of the case hears that their customer wrote (on ``landed``: the case
    itself, or the follow-up opened when it was closed too long ago), in their language."""
    if case.owner_id is None:
        return
    owner = identity_service.get_staff(db, case.owner_id)
    if not owner.is_active:
        return
    lang = normalise_lang(owner.language) or "zh-CN"
    excerpt = " ".join(body.split())
    if len(excerpt) > REPLY_EXCERPT:
        excerpt = excerpt[: REPLY_EXCERPT - 1] + "…"
    notify.notify_staff(
        db,
        landed,
        kind="customer_reply",
        recipient="owner",
        staff_user_id=owner.id,
        body=translate(
            "case.customer_replied",
            lang,
            reference=landed.reference,
            channel=translate(f"case.reply_channel.{channel}", lang),
            excerpt=excerpt,
        ),
        now=now,
        actor=audit.Actor.system(),
    )


def chat_message(
    db: Session,
    case: Case,
    *,
    text: str,
    actor: audit.Actor,
    internal: bool,
    conversation_id: int,
    seq: int,
    at: datetime,
) -> None:
    """A message of a chat about the case joins its timeline as it was said: the customer's,
    the assistant's and the agent's words as messages the customer sees on their case page,
    an agent's internal note as a note they never see."""
    timeline.add_event(
        db,
        case,
        kind="note" if internal else "message",
        actor=actor,
        now=at,
        visibility=timeline.INTERNAL if internal else timeline.PUBLIC,
        body=text,
        data={"channel": "chat", "conversation_id": conversation_id, "seq": seq},
    )


def chat_reply(
    db: Session, case: Case, *, actor: audit.Actor, settings: Settings, now: datetime
) -> None:
    """An agent answered the customer in a live chat about the case: the first answer is
    the case's first response (the chat reports it to quality itself), and a new case is
    being worked."""
    if case.first_responded_at is None:
        case.first_responded_at = now
    if case.status == Status.NEW.value:
        service.move(
            db, case, target=Status.OPEN, mover=Mover.STAFF, actor=actor, settings=settings, now=now
        )


def _within_reopen_window(case: Case, settings: Settings, now: datetime) -> bool:
    return case.closed_at is not None and now - case.closed_at <= timedelta(
        days=settings.case_reopen_days
    )


def resolve(
    db: Session,
    case: Case,
    *,
    summary: str,
    actor: audit.Actor,
    settings: Settings,
    now: datetime | None = None,
) -> Case:
    """Resolve with a public summary. Telling the customer is the caller's
    (``tell_resolved``)."""
    now = now or utcnow()
    summary = _text(summary)
    if case.first_responded_at is None:
        case.first_responded_at = now
        quality_hooks.first_reply(db, case, actor=actor, now=now)
    service.move(
        db,
        case,
        target=Status.RESOLVED,
        mover=Mover.STAFF,
        actor=actor,
        settings=settings,
        now=now,
        reason=summary,
    )
    return case


def tell_resolved(
    db: Session, case: Case, *, settings: Settings, senders: Senders, now: datetime | None = None
) -> None:
    """Tell the customer the case is resolved; a complaint's customer is told the
    regulator route."""
    key = "case.resolved_complaint" if case.category == Category.COMPLAINT else "case.resolved"
    notify.notify_customer(
        db,
        case,
        kind="resolved",
        text_key=key,
        now=now or utcnow(),
        settings=settings,
        senders=senders,
        actor=audit.Actor.system(),
    )


def close(
    db: Session,
    case: Case,
    *,
    actor: audit.Actor,
    settings: Settings,
    mover: Mover = Mover.STAFF,
    now: datetime | None = None,
) -> Case:
    service.move(
        db,
        case,
        target=Status.CLOSED,
        mover=mover,
        actor=actor,
        settings=settings,
        now=now or utcnow(),
    )
    return case
