"""An agent's work on one case beyond the basic moves in ``service``: replying on a chosen
channel, notes that mention colleagues, transfers between tiers, merging duplicates,
resolving with a resolution code, reopening, and the stale-edit check every form passes.

The console's forms and the staff API call the same functions here, so both surfaces obey
the same rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kefu import audit, placeholders
from kefu.cases import conversation, email_intake, notify, service, timeline
from kefu.cases import summary as contact_summary
from kefu.cases.categories import TIER_ORDER, Category, Tier
from kefu.cases.errors import CaseFinished, UnknownValue
from kefu.cases.models import Case, CaseAttachment, CaseEvent, CaseNotification
from kefu.cases.transitions import FINISHED, Mover, Status
from kefu.channels.message import OutgoingMessage
from kefu.channels.senders import Senders
from kefu.config import Settings
from kefu.db import utcnow
from kefu.errors import Conflict, InvalidInput
from kefu.i18n import normalise_lang, translate
from kefu.identity import service as identity_service
from kefu.search import service as search_service

REPLY_CHANNELS = ("email", "sms", "app")
SMS_MAX = 500
RESOLUTION_CODES = (
    "answered",
    "fixed",
    "refunded",
    "account_restored",
    "duplicate",
    "no_reply",
    "third_party",
    "declined",
)
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_.\-]{1,64})")


class StaleCase(Conflict):
    """Someone changed the case after this form was drawn."""

    code = "case_stale"
    message_key = "error.case.stale"


class MergeRefused(Conflict):
    code = "case_merge_refused"
    message_key = "error.case.merge_refused"


class ChannelUnavailable(InvalidInput):
    code = "case_channel_unavailable"
    message_key = "error.case.channel_unavailable"


def version_of(case: Case) -> str:
    """The token a form carries: every change to a case moves ``updated_at``."""
    return case.updated_at.isoformat()


def check_fresh(case: Case, version: str | None) -> None:
    """``version`` None means the caller did not send one (the API may omit it)."""
    if version is not None and version != version_of(case):
        raise StaleCase(f"case {case.reference} changed since the form was drawn")


def default_channel(case: Case) -> str:
    if case.channel == "email":
        return "email"
    if case.channel in ("sms", "voice"):
        return "sms"
    return "app"


def reply(
    db: Session,
    case: Case,
    *,
    body: str,
    via: str,
    actor: audit.Actor,
    settings: Settings,
    senders: Senders,
    then: Status | None = None,
) -> list[int]:
    """Answer the customer on ``via``; returns mail ids to hand to the send job after the
    commit. By mail the reply itself goes in the case's thread; by SMS the text itself
    (at most ``SMS_MAX`` characters); in the app the customer is told a reply waits."""
    if via not in REPLY_CHANNELS:
        raise UnknownValue(f"unknown reply channel {via!r}", field="via", value=via)
    placeholders.refuse_unfilled(body, notify.case_lang(case))
    customer = identity_service.get_customer(db, case.customer_id)
    if via == "sms":
        if not customer.phone:
            raise ChannelUnavailable("the customer has no phone number", field="via")
        if len(body) > SMS_MAX:
            raise InvalidInput("an SMS reply is too long", field="body", max=SMS_MAX)
    if via == "email" and not customer.email and not has_mail_thread(db, case):
        raise ChannelUnavailable("the customer has no e-mail address", field="via")
    conversation.staff_reply(
        db,
        case,
        body=body,
        actor=actor,
        settings=settings,
        then=then,
        channel=via,
    )
    if via == "app":
        conversation.tell_reply(db, case, settings=settings, senders=senders)
    if via == "email":
        return email_intake.mail_reply(db, case, body=body, settings=settings)
    if via == "sms":
        text = translate(
            "case.sms_reply", notify.case_lang(case), reference=case.reference, body=body
        )
        senders.sms.send(
            db, OutgoingMessage(to=customer.phone or "", purpose="case_reply", body=text)
        )
    return []


def has_mail_thread(db: Session, case: Case) -> bool:
    from kefu.channels.email import outgoing

    return outgoing.thread_of(db, case.reference) is not None


def mentioned(db: Session, body: str) -> list[tuple[int, str, str]]:
    """Active staff named ``@username`` in ``body``: (id, username, language)."""
    names = dict.fromkeys(m.group(1) for m in _MENTION.finditer(body))
    found = []
    for name in names:
        user = identity_service.get_staff_by_username(db, name)
        if user is not None and user.is_active:
            found.append((user.id, user.username, user.language))
    return found


def note(
    db: Session, case: Case, *, body: str, actor: audit.Actor, now: datetime | None = None
) -> list[str]:
    """An internal note; each colleague it mentions gets a console notification. Returns
    the usernames told."""
    now = now or utcnow()
    service.add_note(db, case, body=body, actor=actor, now=now)
    told = []
    writer = identity_service.get_staff_by_username(db, actor.name.removeprefix("staff:"))
    who = writer.display_name if writer is not None else actor.name.removeprefix("staff:")
    for staff_id, username, language in mentioned(db, body):
        if actor.name == f"staff:{username}":
            continue
        notify.notify_staff(
            db,
            case,
            kind="mention",
            recipient="mentioned",
            staff_user_id=staff_id,
            body=translate(
                "case.mentioned",
                normalise_lang(language) or "zh-CN",
                reference=case.reference,
                who=who,
            ),
            now=now,
            actor=actor,
        )
        told.append(username)
    return told


def transfer(
    db: Session,
    case: Case,
    *,
    tier: str,
    owner_username: str | None,
    actor: audit.Actor,
    now: datetime | None = None,
) -> Case:
    """Move the case to another tier's queue (or a named person there), up or down;
    escalating upwards with a reason and notifications is ``escalation.escalate``."""
    now = now or utcnow()
    try:
        target = Tier(tier)
    except ValueError:
        raise UnknownValue(f"unknown tier {tier!r}", field="tier", value=tier) from None
    if Status(case.status) in FINISHED:
        raise CaseFinished(f"case {case.reference} is {case.status}", reference=case.reference)
    before = case.tier
    if target.value != before:
        case.tier = target.value
        timeline.add_event(
            db,
            case,
            kind="assignment",
            actor=actor,
            now=now,
            data={"tier_from": before, "tier_to": target.value},
        )
        audit.record(
            db,
            actor=actor,
            action="case.transfer",
            customer_id=case.customer_id,
            case_reference=case.reference,
            before={"tier": before},
            after={"tier": target.value},
        )
    service.assign(db, case, owner_username=owner_username, actor=actor, now=now)
    return case


def tier_rank(tier: str) -> int:
    return TIER_ORDER.index(Tier(tier))


def resolve(
    db: Session,
    case: Case,
    *,
    code: str | None,
    summary: str,
    actor: audit.Actor,
    settings: Settings,
    senders: Senders,
) -> list[int]:
    """Resolve with the customer's summary; the code (how it was resolved) feeds the
    figures. The staff API may leave it out, as it could before codes existed. A mail
    thread's case ends its mail exchange: the summary (``contact_summary.mail_draft`` as
    the agent left it, at most ``MAX_SUMMARY``) is answered in the thread in place of the
    resolved notice (a complaint's customer still gets the regulator route). Returns the
    mail ids to hand to the send job after the commit."""
    if code is not None and code not in RESOLUTION_CODES:
        raise UnknownValue(f"unknown resolution code {code!r}", field="resolution_code", value=code)
    by_mail = has_mail_thread(db, case)
    if by_mail:
        drafted = contact_summary.mail_draft(db, case, settings=settings)
        summary = contact_summary.clean(summary, drafted)
    case.resolution_code = code
    complaint = case.category == Category.COMPLAINT
    conversation.resolve(
        db,
        case,
        # the summary itself follows on the timeline as the mail it went as
        summary=translate("summary.sent_by_mail", notify.case_lang(case)) if by_mail else summary,
        actor=actor,
        settings=settings,
    )
    if complaint or not by_mail:
        conversation.tell_resolved(db, case, settings=settings, senders=senders)
    if not by_mail:
        return []
    return contact_summary.send_in_thread(
        db, case, body=summary, settings=settings, actor=actor, now=utcnow()
    )


def reopen(db: Session, case: Case, *, reason: str, actor: audit.Actor, settings: Settings) -> Case:
    """Staff reopen a resolved case; a closed one only the customer's word reopens
    (``transitions``)."""
    if not reason.strip():
        raise InvalidInput("reopening needs a reason", field="reason")
    service.move(
        db,
        case,
        target=Status.OPEN,
        mover=Mover.STAFF,
        actor=actor,
        settings=settings,
        now=utcnow(),
        reason=reason.strip(),
    )
    case.resolution_code = None
    return case


@dataclass(frozen=True)
class Merged:
    kept: Case
    duplicate: Case
    events_moved: int


def merge(
    db: Session,
    duplicate: Case,
    *,
    into: Case,
    actor: audit.Actor,
    now: datetime | None = None,
) -> Merged:
    """Fold ``duplicate`` into ``into``: its timeline, links and attachments move over, it
    closes, and its reference leads to ``into`` from then on, so the customer keeps one
    reference. Both must be the same customer's: merging would otherwise show one customer
    another's messages."""
    now = now or utcnow()
    if duplicate.id == into.id:
        raise MergeRefused("a case cannot be merged into itself", reason="same")
    if duplicate.customer_id != into.customer_id:
        raise MergeRefused("cases of different customers", reason="customers")
    if into.merged_into_id is not None or duplicate.merged_into_id is not None:
        raise MergeRefused("one of the cases was merged already", reason="merged")
    if Status(into.status) is Status.CLOSED:
        raise MergeRefused("merge into an open case", reason="closed")
    moved = db.scalar(select(func.count()).where(CaseEvent.case_id == duplicate.id)) or 0
    db.execute(update(CaseEvent).where(CaseEvent.case_id == duplicate.id).values(case_id=into.id))
    existing = {(link.kind, link.external_id) for link in service.links(db, into)}
    for link in service.links(db, duplicate):
        if (link.kind, link.external_id) in existing:
            db.delete(link)
        else:
            link.case_id = into.id
    db.execute(
        update(CaseAttachment).where(CaseAttachment.case_id == duplicate.id).values(case_id=into.id)
    )
    db.execute(
        update(CaseNotification)
        .where(CaseNotification.case_id == duplicate.id)
        .values(case_id=into.id)
    )
    db.flush()
    db.expire_all()
    duplicate_status = duplicate.status
    duplicate.merged_into_id = into.id
    duplicate.status = Status.CLOSED.value
    duplicate.closed_at = duplicate.closed_at or now
    duplicate.updated_at = now
    timeline.add_event(
        db,
        into,
        kind="merge",
        actor=actor,
        now=now,
        visibility=timeline.PUBLIC,
        body=translate(
            "case.merged_public",
            notify.case_lang(into),
            duplicate=duplicate.reference,
            reference=into.reference,
        ),
        data={"merged": duplicate.reference, "status_was": duplicate_status},
    )
    if into.first_responded_at is None and duplicate.first_responded_at is not None:
        into.first_responded_at = duplicate.first_responded_at
    audit.record(
        db,
        actor=actor,
        action="case.merge",
        customer_id=into.customer_id,
        case_reference=into.reference,
        before={"duplicate": duplicate.reference, "status": duplicate_status},
        after={"merged_into": into.reference},
    )
    search_service.remove_document(db, kind=service.SEARCH_KIND, ref=duplicate.reference)
    service.schedule_reindex(db, into)
    return Merged(kept=into, duplicate=duplicate, events_moved=int(moved))


def merged_references(db: Session, case: Case) -> list[str]:
    return list(
        db.scalars(select(Case.reference).where(Case.merged_into_id == case.id).order_by(Case.id))
    )
