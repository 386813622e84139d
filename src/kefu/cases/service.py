"""Opening, finding and working cases. Functions flush and never commit.

Who acts is an ``audit.Actor``: ``staff:<username>`` (role agent, specialist, ...),
``customer:<id>`` or ``system``. ``now`` is a parameter everywhere so tests and the
scheduler control the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, exists, func, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from kefu import audit, deferred, paging
from kefu.cases import notify, policies, refs, timeline
from kefu.cases.categories import LINK_KINDS, Channel, Tier, default_priority
from kefu.cases.errors import CaseNotFound, UnknownValue
from kefu.cases.models import Case, CaseEvent, CaseLink
from kefu.cases.transitions import FINISHED, PAUSING, Mover, Status, check_move
from kefu.channels.senders import Senders
from kefu.config import Settings
from kefu.db import insert_stored, inserts_unless_taken, utcnow
from kefu.errors import InvalidInput
from kefu.i18n import normalise_lang, translate, zone_label
from kefu.identity import service as identity_service
from kefu.quality import case_hooks as quality_hooks
from kefu.search import service as search_service
from kefu.sensitive import mask

SEARCH_KIND = "case"
_REFERENCE_TRIES = 8


@dataclass(frozen=True)
class Device:
    model: str | None = None
    os: str | None = None
    app_version: str | None = None


@dataclass(frozen=True)
class NewCase:
    customer_id: int
    category: str
    channel: str
    subject: str
    description: str | None = None
    priority: str | None = None
    language: str | None = None
    device: Device = field(default_factory=Device)
    links: tuple[tuple[str, str], ...] = ()


def _channel(value: str) -> Channel:
    try:
        return Channel(value)
    except ValueError:
        raise UnknownValue(f"unknown channel {value!r}", field="channel", value=value) from None


def _clean_subject(subject: str) -> str:
    subject = mask(" ".join(subject.split()))
    if not subject:
        raise InvalidInput("a case needs a subject", field="subject")
    return subject[:200]


def _insert_with_unused_reference(
    db: Session, case: Case, now: datetime, settings: Settings
) -> None:
    """Insert the new case under a fresh reference: the unique index decides, and a
    reference another case has, or a concurrent transaction is inserting (PostgreSQL waits
    for it to end), inserts nothing and the next is tried. No question beforehand, no
    savepoint, no flush: one statement, and the case joins the session as stored."""
    table = cast(Table, Case.__table__)
    statement = inserts_unless_taken(table, ("reference",), db.get_bind().dialect.name)
    for _ in range(_REFERENCE_TRIES):
        case.reference = str(refs.new_reference(now.astimezone(settings.tz)))
        if insert_stored(db, case, statement):
            return
    raise RuntimeError("no unused case reference found; the month's space is nearly full")


def open_case(
    db: Session,
    *,
    new: NewCase,
    actor: audit.Actor,
    settings: Settings,
    now: datetime | None = None,
    senders: Senders | None = None,
) -> Case:
    """Open a case with its committed time from the SLA policy.

    The customer's own words become the first public message (masked); the committed time
    sentence is the first thing the customer hears back: on the channel they are on (the
    assistant says it, a mail is answered in its thread), or, given ``senders``, by
    ``acknowledge`` in the same change.
    """
    now = now or utcnow()
    category = policies.parse_category(new.category)
    priority = policies.parse_priority(new.priority) if new.priority else default_priority(category)
    channel = _channel(new.channel)
    customer = identity_service.customer_contact(db, new.customer_id)
    policy = policies.targets(db, category=category.value, priority=priority.value)
    case = Case(
        customer_id=customer.id,
        category=category.value,
        priority=priority.value,
        channel=channel.value,
        status=Status.NEW.value,
        subject=_clean_subject(new.subject),
        language=new.language or customer.language,
        tier=Tier.TIER1.value,
        device_model=new.device.model,
        device_os=new.device.os,
        app_version=new.device.app_version,
        sla_calendar=policy.calendar,
        first_response_minutes=policy.first_response_minutes,
        resolution_minutes=policy.resolution_minutes,
        pause_on_customer=policy.pause_on_customer,
        progress_every_hours=policy.progress_every_hours,
        escalation_count=0,
        last_activity_at=now,
        created_at=now,
        updated_at=now,
        committed_at=now,
    )
    timeline.refresh_due(db, case, settings)
    assert case.resolution_due_at is not None  # no pauses yet
    # what the customer is told: the problem is answered and dealt with by then
    case.committed_at = case.resolution_due_at
    if senders is not None and notify.reachable(case, customer):
        # what acknowledge sets, in the INSERT: the same value later is no UPDATE
        case.last_customer_update_at = now
    _insert_with_unused_reference(db, case, now, settings)
    if new.description:
        timeline.add_event(
            db,
            case,
            kind="message",
            actor=actor,
            now=now,
            visibility=timeline.PUBLIC,
            body=new.description,
            data={"channel": channel.value},
        )
    for kind, external_id in new.links:
        link(db, case, kind=kind, external_id=external_id, actor=actor, now=now)
    committed = notify.committed_sentence(case, settings)
    timeline.add_event(
        db,
        case,
        kind="sla",
        actor=audit.Actor.system(),
        now=now,
        visibility=timeline.PUBLIC,
        body=committed,
        data={
            "first_response_due_at": case.first_response_due_at,
            "resolution_due_at": case.resolution_due_at,
            "calendar": case.sla_calendar,
        },
    )
    audit.record(
        db,
        actor=actor,
        action="case.create",
        customer_id=customer.id,
        case_reference=case.reference,
        after={"category": case.category, "priority": case.priority, "channel": case.channel},
    )
    # the quality figures and the text search follow after the commit (kefu.deferred), in
    # one row: one written, read and deleted a case instead of two
    deferred.defer(db, OPENED, {"case_id": case.id, "at": now.isoformat()})
    if senders is not None:
        acknowledge(db, case, settings=settings, senders=senders, now=now, addressee=customer)
    return case


def acknowledge(
    db: Session,
    case: Case,
    *,
    settings: Settings,
    senders: Senders,
    now: datetime | None = None,
    addressee: notify.Addressee | None = None,
) -> None:
    """Tell the customer a case was opened and by when it is dealt with (by SMS, else by
    e-mail), for a case opened where they are not told otherwise (by staff, on a call).
    ``addressee``: the customer's phone and e-mail when in hand (else the case's customer)."""
    notify.notify_customer(
        db,
        case,
        kind="acknowledged",
        text_key="case.committed_time",
        now=now or utcnow(),
        settings=settings,
        senders=senders,
        actor=audit.Actor.system(),
        addressee=addressee,
        time=notify.local_time(case.committed_at, settings),
        zone=zone_label(settings.timezone, notify.case_lang(case)),
    )


OPENED = "case.opened"
QUALITY_OPENED = "case.quality_opened"  # rows a version before OPENED left
REINDEX = "case.reindex"


def schedule_reindex(db: Session, case: Case) -> None:
    """Re-index the case's text after the commit."""
    deferred.defer(db, REINDEX, {"case_id": case.id})


def reindex(db: Session, case: Case, *, public: list[CaseEvent] | None = None) -> None:
    """The case's subject and its public messages, already masked, feed the text search.
    ``public``: the case's public events in order, when the caller read them already."""
    if public is None:
        public = timeline.events(db, case, public_only=True)
    messages = [event.body for event in public if event.kind == "message" and event.body]
    search_service.index_document(
        db,
        kind=SEARCH_KIND,
        ref=case.reference,
        title=case.subject,
        body="\n".join(messages),
        lang=case.language,
    )


def get_case(db: Session, reference: str, *, for_update: bool = False) -> Case:
    """The case for a reference as typed; a typo raises ReferenceMistyped, no match
    CaseNotFound. A duplicate merged into another case answers with that case."""
    canonical = refs.canonical(reference)
    query = select(Case).where(Case.reference == canonical)
    if for_update:
        query = query.with_for_update()
    case = db.scalar(query)
    if case is None:
        raise CaseNotFound(f"no case {canonical}", reference=canonical)
    while case.merged_into_id is not None:  # a merged duplicate's reference leads on
        survivor = db.get(Case, case.merged_into_id, with_for_update=for_update or None)
        if survivor is None:
            break
        case = survivor
    return case


def get_customer_case(db: Session, *, customer_id: int, reference: str) -> Case:
    """A customer's own case; another customer's answers exactly like an unknown one."""
    case = get_case(db, reference)
    if case.customer_id != customer_id:
        raise CaseNotFound(f"no case {case.reference}", reference=refs.canonical(reference))
    return case


@dataclass(frozen=True)
class CaseFilter:
    status: str | None = None
    category: str | None = None
    owner_id: int | None = None
    unassigned: bool = False
    tier: str | None = None
    channel: str | None = None
    customer_id: int | None = None
    breached: bool | None = None
    text: str | None = None


def _filtered(query: Select[Any], flt: CaseFilter, now: datetime) -> Select[Any]:
    if flt.status:
        query = query.where(Case.status == Status(flt.status).value)
    if flt.category:
        query = query.where(Case.category == policies.parse_category(flt.category).value)
    if flt.owner_id is not None:
        query = query.where(Case.owner_id == flt.owner_id)
    if flt.unassigned:
        query = query.where(Case.owner_id.is_(None))
    if flt.tier:
        query = query.where(Case.tier == Tier(flt.tier).value)
    if flt.channel:
        query = query.where(Case.channel == _channel(flt.channel).value)
    if flt.customer_id is not None:
        query = query.where(Case.customer_id == flt.customer_id)
    if flt.breached is not None:
        breached = or_(
            Case.first_response_breached_at.is_not(None),
            Case.resolution_breached_at.is_not(None),
            # late but not yet seen by the scheduler
            (Case.first_responded_at.is_(None) & (Case.first_response_due_at < now)),
            (Case.status.not_in([s.value for s in FINISHED]) & (Case.resolution_due_at < now)),
        )
        query = query.where(breached if flt.breached else ~breached)
    return query


LIST_ORDER = paging.Keyset((Case.created_at, paging.DESC), (Case.id, paging.DESC))


def list_cases(
    db: Session,
    *,
    flt: CaseFilter,
    limit: int = 50,
    offset: int = 0,
    after: str | None = None,
    now: datetime | None = None,
) -> list[Case]:
    """Newest first, the page after the cursor ``after`` (``LIST_ORDER``; ``offset`` is
    the deprecated way). With ``text``, best text matches first among the filtered cases:
    that ranking is a score, not a column order, so it pages by offset."""
    now = now or utcnow()
    if flt.text:
        within = _filtered(select(Case.reference), flt, now)
        hits = search_service.search(
            db, kind=SEARCH_KIND, query=flt.text, limit=limit, offset=offset, refs_within=within
        )
        by_ref = {
            case.reference: case
            for case in db.scalars(select(Case).where(Case.reference.in_([h.ref for h in hits])))
        }
        return [by_ref[hit.ref] for hit in hits if hit.ref in by_ref]
    query = LIST_ORDER.page(_filtered(select(Case), flt, now), after=after)
    return list(db.scalars(query.limit(limit).offset(offset)))


def cases_by_reference(db: Session, references: list[str]) -> list[Case]:
    if not references:
        return []
    return list(db.scalars(select(Case).where(Case.reference.in_(set(references)))))


def staff_id(db: Session, username: str) -> int:
    user = identity_service.get_staff_by_username(db, username)
    if user is None:
        raise InvalidInput("no staff member by that name", field="owner")
    return user.id


def references(db: Session, case_ids: list[int]) -> dict[int, str]:
    """Case id -> reference, for lists built by other domains (quality drill-downs)."""
    if not case_ids:
        return {}
    rows = db.execute(select(Case.id, Case.reference).where(Case.id.in_(set(case_ids))))
    return {row.id: row.reference for row in rows}


def count_sla_at_risk(
    db: Session, *, now: datetime, owner_id: int | None = None
) -> tuple[int, int]:
    """Unfinished cases (warned but not yet late, late) on first response or resolution.

    Every late case was warned first, so only warned cases are looked at: found through
    the two (status, warn time) indexes, each a range of the few warned cases — an OR
    across the two columns would make the database read every unfinished case instead.
    """
    unfinished = Case.status.in_([s.value for s in Status if s not in FINISHED])
    waiting_reply = Case.first_responded_at.is_(None)
    warned = (
        select(Case.id)
        .where(unfinished, Case.resolution_warn_at <= now)
        .union(select(Case.id).where(unfinished, Case.first_response_warn_at <= now, waiting_reply))
    )
    late = or_(waiting_reply & (Case.first_response_due_at <= now), Case.resolution_due_at <= now)
    query = select(func.count(), func.sum(sql_case((late, 1), else_=0))).where(Case.id.in_(warned))
    if owner_id is not None:
        query = query.where(Case.owner_id == owner_id)
    counted = db.execute(query).one()
    total, late_count = int(counted[0] or 0), int(counted[1] or 0)
    return total - late_count, late_count


def at_risk(db: Session, *, now: datetime, limit: int = 10) -> list[Case]:
    """The unfinished cases warned of their SLA (late ones included), soonest due first:
    the same warned cases ``count_sla_at_risk`` counts, through the same indexes."""
    unfinished = Case.status.in_([s.value for s in Status if s not in FINISHED])
    warned = (
        select(Case.id)
        .where(unfinished, Case.resolution_warn_at <= now)
        .union(
            select(Case.id).where(
                unfinished, Case.first_response_warn_at <= now, Case.first_responded_at.is_(None)
            )
        )
    )
    due = sql_case(
        (Case.first_responded_at.is_(None), Case.first_response_due_at),
        else_=Case.resolution_due_at,
    )
    query = select(Case).where(Case.id.in_(warned)).order_by(due, Case.id).limit(limit)
    return list(db.scalars(query))


def count_unfinished(
    db: Session, *, owner_id: int | None = None, unassigned: bool = False
) -> dict[str, int]:
    """Unfinished cases per status: an agent's own, or the unassigned ones."""
    query = select(Case.status, func.count()).where(Case.status.not_in([s.value for s in FINISHED]))
    if owner_id is not None:
        query = query.where(Case.owner_id == owner_id)
    if unassigned:
        query = query.where(Case.owner_id.is_(None))
    return {str(status): int(count) for status, count in db.execute(query.group_by(Case.status))}


# --- changes ------------------------------------------------------------------------------


def link(
    db: Session, case: Case, *, kind: str, external_id: str, actor: audit.Actor, now: datetime
) -> CaseLink:
    external_id = external_id.strip()
    if kind not in LINK_KINDS:
        raise UnknownValue(f"unknown link kind {kind!r}", field="kind", value=kind)
    if not external_id or len(external_id) > 64:
        raise InvalidInput("a linked id is 1 to 64 characters", field="external_id")
    if kind == "case":  # another case: by its canonical reference, and it must exist
        external_id = get_case(db, external_id).reference
        if external_id == case.reference:
            raise InvalidInput("a case cannot be linked to itself", field="external_id")
    found = db.scalar(
        select(CaseLink).where(
            CaseLink.case_id == case.id, CaseLink.kind == kind, CaseLink.external_id == external_id
        )
    )
    if found is not None:
        return found
    row = CaseLink(case_id=case.id, kind=kind, external_id=external_id, created_at=now)
    db.add(row)
    timeline.add_event(
        db, case, kind="link", actor=actor, now=now, data={"kind": kind, "id": external_id}
    )
    return row


# built once, the case bound at each call (see timeline.events)
_LINKS = select(CaseLink).where(CaseLink.case_id == bindparam("case_id")).order_by(CaseLink.id)


def links(db: Session, case: Case) -> list[CaseLink]:
    return list(db.scalars(_LINKS, {"case_id": case.id}))


def cases_linked_to(db: Session, *, kind: str, external_id: str) -> list[Case]:
    query = select(Case).where(
        exists().where(
            CaseLink.case_id == Case.id,
            CaseLink.kind == kind,
            CaseLink.external_id == external_id,
        )
    )
    return list(db.scalars(query))


def move(
    db: Session,
    case: Case,
    *,
    target: Status,
    mover: Mover,
    actor: audit.Actor,
    settings: Settings,
    now: datetime,
    reason: str | None = None,
) -> None:
    """Change status by the table in ``transitions``, keeping the SLA clock in step."""
    current = Status(case.status)
    check_move(current, target, mover)
    if current in PAUSING and case.pause_on_customer:
        timeline.end_pause(db, case, now)
    if target in PAUSING and case.pause_on_customer:
        timeline.start_pause(db, case, now)
    case.status = target.value
    if target is Status.RESOLVED:
        case.resolved_at = now
    elif target is Status.CLOSED:
        case.closed_at = now
    elif target is Status.OPEN and current in FINISHED:
        case.resolved_at = case.closed_at = None
    timeline.refresh_due(db, case, settings)
    if target is Status.RESOLVED:
        quality_hooks.resolved(db, case, actor=actor, now=now)
    elif target is Status.OPEN and current in FINISHED:
        quality_hooks.reopened(db, case, now=now)
    timeline.add_event(
        db,
        case,
        kind="status",
        actor=actor,
        now=now,
        visibility=timeline.PUBLIC,
        body=reason,
        data={"from": current.value, "to": target.value},
    )
    audit.record(
        db,
        actor=actor,
        action=f"case.status.{target.value}",
        customer_id=case.customer_id,
        case_reference=case.reference,
        before={"status": current.value},
        after={"status": target.value},
    )


def update(
    db: Session,
    case: Case,
    *,
    changes: dict[str, Any],
    actor: audit.Actor,
    settings: Settings,
    now: datetime | None = None,
) -> Case:
    """Category, priority, subject or device details. A new category or priority takes
    that policy's targets; the committed time told to the customer stays as told."""
    now = now or utcnow()
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if "subject" in changes:
        changes["subject"] = _clean_subject(changes["subject"])
    if "category" in changes:
        changes["category"] = policies.parse_category(changes["category"]).value
    if "priority" in changes:
        changes["priority"] = policies.parse_priority(changes["priority"]).value
    for key in ("subject", "category", "priority", "device_model", "device_os", "app_version"):
        if key in changes and changes[key] != getattr(case, key):
            before[key], after[key] = getattr(case, key), changes[key]
            setattr(case, key, changes[key])
    if not after:
        return case
    if "category" in after or "priority" in after:
        policy = policies.get_policy(db, category=case.category, priority=case.priority)
        case.first_response_minutes = policy.first_response_minutes
        case.resolution_minutes = policy.resolution_minutes
        case.sla_calendar = policy.calendar
        case.pause_on_customer = policy.pause_on_customer
        case.progress_every_hours = policy.progress_every_hours
        timeline.refresh_due(db, case, settings)
    timeline.add_event(
        db, case, kind="update", actor=actor, now=now, data={"before": before, "after": after}
    )
    audit.record(
        db,
        actor=actor,
        action="case.update",
        customer_id=case.customer_id,
        case_reference=case.reference,
        before=before,
        after=after,
    )
    if "subject" in after:
        schedule_reindex(db, case)
    return case


def assign(
    db: Session,
    case: Case,
    *,
    owner_username: str | None,
    actor: audit.Actor,
    now: datetime | None = None,
) -> Case:
    """Give the case to a staff member (None: back to the queue)."""
    now = now or utcnow()
    owner_id = None
    if owner_username is not None:
        owner = identity_service.get_staff_by_username(db, owner_username)
        if owner is None or not owner.is_active:
            raise InvalidInput("no active staff member by that name", field="owner")
        owner_id = owner.id
    if owner_id == case.owner_id:
        return case
    before = case.owner_id
    case.owner_id = owner_id
    timeline.add_event(
        db,
        case,
        kind="assignment",
        actor=actor,
        now=now,
        data={"from": before, "to": owner_id, "owner": owner_username},
    )
    audit.record(
        db,
        actor=actor,
        action="case.assign",
        customer_id=case.customer_id,
        case_reference=case.reference,
        before={"owner_id": before},
        after={"owner_id": owner_id},
    )
    if owner_username is not None and actor.name != f"staff:{owner_username}":
        _tell_staff(
            db, case, owner_username, kind="assignment", key="case.assigned_to_you", now=now
        )
    return case


def _tell_staff(
    db: Session,
    case: Case,
    username: str,
    *,
    kind: str,
    key: str,
    now: datetime,
    **params: str,
) -> None:
    """A console notification to one staff member, in their language."""
    user = identity_service.get_staff_by_username(db, username)
    if user is None or not user.is_active:
        return
    notify.notify_staff(
        db,
        case,
        kind=kind,
        recipient="owner" if user.id == case.owner_id else "staff",
        staff_user_id=user.id,
        body=translate(
            key,
            normalise_lang(user.language) or "zh-CN",
            reference=case.reference,
            subject=case.subject,
            **params,
        ),
        now=now,
        actor=audit.Actor.system(),
    )


def add_note(
    db: Session, case: Case, *, body: str, actor: audit.Actor, now: datetime | None = None
) -> None:
    """An internal note: staff only, never shown to the customer."""
    if not body.strip():
        raise InvalidInput("a note needs text", field="body")
    timeline.add_event(db, case, kind="note", actor=actor, now=now or utcnow(), body=body)


def record_call(
    db: Session,
    case: Case,
    *,
    summary: str,
    outcome: str,
    actor: audit.Actor,
    now: datetime | None = None,
    call_sid: str | None = None,
) -> None:
    """A call of the case ended; ``call_sid`` lets the case page lead to its after-call
    page."""
    timeline.add_event(
        db,
        case,
        kind="call",
        actor=actor,
        now=now or utcnow(),
        body=summary,
        data={"outcome": outcome, **({"call_sid": call_sid} if call_sid else {})},
    )


def noted(db: Session, case: Case, *, once: str) -> bool:
    """Whether an action under the idempotency key ``once`` is already on the case."""
    return any(
        event.kind == "action" and timeline.event_data(event).get("key") == once
        for event in timeline.events(db, case)
    )


def record_action(
    db: Session,
    case: Case,
    *,
    action: str,
    detail: dict[str, Any],
    actor: audit.Actor,
    public_text: str | None = None,
    now: datetime | None = None,
    once: str | None = None,
) -> None:
    """An account action done for the case (unlock, refund...), by the domain that did it.
    With ``once`` (the action's idempotency key), a replayed action is noted once."""
    if once is not None:
        if noted(db, case, once=once):
            return
        detail = {**detail, "key": once}
    timeline.add_event(
        db,
        case,
        kind="action",
        actor=actor,
        now=now or utcnow(),
        visibility=timeline.PUBLIC if public_text else timeline.INTERNAL,
        body=public_text,
        data={"action": action, **detail},
    )
