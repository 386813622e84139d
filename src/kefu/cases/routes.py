"""Staff case API. Each route authorises, calls one service function, commits, renders."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.orm import Session

from kefu import audit, dbwork, paging
from kefu.cases import conversation, escalation, service, timeline, tracking, work
from kefu.cases import summary as contact_summary
from kefu.cases.models import Case, CaseEvent
from kefu.cases.schemas import (
    AssignIn,
    CaseCreate,
    CaseDetail,
    CaseRead,
    CaseTracking,
    CaseUpdate,
    EscalateIn,
    EventRead,
    LinkAddIn,
    LinkRead,
    MessageIn,
    NoteIn,
    ResolveIn,
    StatusName,
    link_reads,
)
from kefu.cases.transitions import FINISHED, Mover, Status
from kefu.channels.deps import SendersDep, get_senders
from kefu.channels.email import jobs as email_jobs
from kefu.db import DbSession, utcnow
from kefu.deps import LangDep, SettingsDep, settings_of
from kefu.identity.deps import (
    CustomerPrincipal,
    StaffPrincipal,
    require,
    require_apart,
    staff_or_customer,
)
from kefu.numbers import Count, RowId

router = APIRouter(tags=["cases"])

Reference = Annotated[str, Path(min_length=1, max_length=64)]
Reader = Annotated[StaffPrincipal, Depends(require("case.read"))]
Writer = Annotated[StaffPrincipal, Depends(require("case.write"))]
WriterApart = Annotated[StaffPrincipal, Depends(require_apart("case.write"))]
Escalator = Annotated[StaffPrincipal, Depends(require("case.escalate"))]


def actor_of(staff: StaffPrincipal) -> audit.Actor:
    return staff.actor


def detail(
    db: DbSession,
    case: Case,
    *,
    linked: bool = True,
    events: list[CaseEvent] | None = None,
) -> CaseDetail:
    """``linked=False``: the case has no links (opened without any a moment ago), so they
    are not asked for; ``events``: its whole timeline, flushed, when known (it was opened
    a moment ago), so it is not read back."""
    if events is None:
        events = timeline.events(db, case)
    return CaseDetail(
        **CaseRead.model_validate(case).model_dump(),
        links=link_reads(service.links(db, case)) if linked else [],
        timeline=[EventRead.of(e) for e in events],
    )


@router.post("/cases", response_model=CaseDetail, status_code=201)
async def create_case(staff: WriterApart, body: CaseCreate, request: Request) -> CaseDetail:
    """The case is opened in one piece of work in ``kefu.dbwork`` (on SQLite the writer
    thread, committing together with the cases queued behind it), not in the request's
    session: with a session and settings as dependencies, each took a worker thread of its
    own, and the session held SQLite's one connection from the staff check across those
    hand-overs while the other requests queued for it."""
    settings = settings_of(request)
    senders = get_senders(request)
    new = service.NewCase(
        customer_id=body.customer_id,
        category=body.category,
        channel=body.channel,
        subject=body.subject,
        description=body.description,
        priority=body.priority,
        language=body.language,
        device=service.Device(
            model=body.device.model, os=body.device.os, app_version=body.device.app_version
        ),
        links=tuple((link.kind, link.external_id) for link in body.links),
    )

    def open_case(db: Session) -> CaseDetail:
        with timeline.noting(db) as added:
            case = service.open_case(
                db, new=new, actor=actor_of(staff), settings=settings, senders=senders
            )
        db.flush()  # the events' ids
        # answered in the same transaction: no second one on SQLite
        events = sorted((e for e in added if e.case_id == case.id), key=lambda e: e.id)
        return detail(db, case, linked=bool(new.links), events=events)

    return await dbwork.for_app(request.app).request(open_case)


@router.get("/cases", response_model=list[CaseRead])
def list_cases(
    _: Reader,
    db: DbSession,
    status: StatusName | None = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    owner: Annotated[str | None, Query(max_length=64, description="username, or 'none'")] = None,
    tier: Annotated[str | None, Query(pattern="^(tier1|tier2|supervisor)$")] = None,
    channel: Annotated[str | None, Query(max_length=16)] = None,
    customer_id: RowId | None = None,
    breached: bool | None = None,
    text: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=400, description=paging.CURSOR_HELP)] = None,
    offset: Annotated[Count, Query(ge=0, deprecated=True, description=paging.OFFSET_HELP)] = 0,
    *,
    request: Request,
    response: Response,
) -> list[CaseRead]:
    """Newest first (with ``text``: best matches first, paged by ``offset``)."""
    owner_id, unassigned = None, False
    if owner == "none":
        unassigned = True
    elif owner:
        owner_id = service.staff_id(db, owner)
    flt = service.CaseFilter(
        status=status,
        category=category,
        owner_id=owner_id,
        unassigned=unassigned,
        tier=tier,
        channel=channel,
        customer_id=customer_id,
        breached=breached,
        text=text,
    )
    if text:  # ranked by the text's score: paged by offset (see list_cases)
        cases = service.list_cases(db, flt=flt, limit=limit, offset=offset)
    else:
        cases, next_cursor = service.LIST_ORDER.cut(
            service.list_cases(db, flt=flt, limit=limit + 1, offset=offset, after=cursor), limit
        )
        paging.announce_next(request, response, next_cursor)
    return [CaseRead.model_validate(case) for case in cases]


@router.get("/cases/{reference}", response_model=CaseDetail | CaseTracking)
def read_case(
    caller: Annotated[StaffPrincipal | CustomerPrincipal, Depends(staff_or_customer("case.read"))],
    reference: Reference,
    db: DbSession,
    settings: SettingsDep,
    lang: LangDep,
) -> CaseDetail | CaseTracking:
    """Staff see the whole case; a verified customer sees the public part of their own
    case, and any other reference answers 404 exactly as an unknown one does."""
    if isinstance(caller, CustomerPrincipal):
        return tracking.track(
            db, customer_id=caller.customer.id, reference=reference, settings=settings, lang=lang
        )
    case = service.get_case(db, reference)
    found = detail(db, case)
    if Status(case.status) not in FINISHED and work.has_mail_thread(db, case):
        # the mail exchange's summary as the resolve form offers it, to edit before it goes
        found.summary_draft = contact_summary.mail_draft(db, case, settings=settings)
    return found


@router.patch("/cases/{reference}", response_model=CaseDetail)
def update_case(
    staff: Writer, reference: Reference, body: CaseUpdate, db: DbSession, settings: SettingsDep
) -> CaseDetail:
    case = service.get_case(db, reference, for_update=True)
    work.check_fresh(case, body.version)
    changes: dict[str, Any] = body.model_dump(
        exclude_unset=True, exclude={"status", "reason", "version"}
    )
    changes = {key: value for key, value in changes.items() if value is not None}
    service.update(db, case, changes=changes, actor=actor_of(staff), settings=settings)
    if body.status is not None and body.status != case.status:
        service.move(
            db,
            case,
            target=Status(body.status),
            mover=Mover.STAFF,
            actor=actor_of(staff),
            settings=settings,
            now=utcnow(),
            reason=body.reason,
        )
    db.commit()
    return detail(db, case)


@router.post("/cases/{reference}/assign", response_model=CaseRead)
def assign_case(staff: Writer, reference: Reference, body: AssignIn, db: DbSession) -> CaseRead:
    case = service.get_case(db, reference, for_update=True)
    work.check_fresh(case, body.version)
    service.assign(db, case, owner_username=body.owner, actor=actor_of(staff))
    db.commit()
    return CaseRead.model_validate(case)


@router.post("/cases/{reference}/escalate", response_model=CaseRead)
def escalate_case(
    staff: Escalator, reference: Reference, body: EscalateIn, db: DbSession
) -> CaseRead:
    case = service.get_case(db, reference, for_update=True)
    work.check_fresh(case, body.version)
    escalation.escalate(
        db,
        case,
        to_tier=body.tier,
        reason=body.reason,
        owner_username=body.owner,
        actor=actor_of(staff),
    )
    db.commit()
    return CaseRead.model_validate(case)


@router.post("/cases/{reference}/notes", response_model=CaseDetail, status_code=201)
def add_note(staff: Writer, reference: Reference, body: NoteIn, db: DbSession) -> CaseDetail:
    case = service.get_case(db, reference, for_update=True)
    work.check_fresh(case, body.version)
    work.note(db, case, body=body.body, actor=actor_of(staff))
    db.commit()
    return detail(db, case)


@router.post("/cases/{reference}/replies", response_model=CaseDetail, status_code=201)
def reply(
    staff: Writer,
    reference: Reference,
    body: MessageIn,
    db: DbSession,
    settings: SettingsDep,
    senders: SendersDep,
) -> CaseDetail:
    """By the case's channel unless ``via`` says otherwise: a mailed case gets the reply
    itself in its mail thread, an SMS case by SMS, others a "you have a reply" notice."""
    case = service.get_case(db, reference, for_update=True)
    work.check_fresh(case, body.version)
    mailed = work.reply(
        db,
        case,
        body=body.body,
        via=body.via or work.default_channel(case),
        actor=actor_of(staff),
        settings=settings,
        senders=senders,
        then=Status(body.then) if body.then else None,
    )
    db.commit()
    email_jobs.dispatch(mailed)
    return detail(db, case)


@router.post("/cases/{reference}/links", response_model=list[LinkRead], status_code=201)
def add_link(staff: Writer, reference: Reference, body: LinkAddIn, db: DbSession) -> list[LinkRead]:
    case = service.get_case(db, reference, for_update=True)
    work.check_fresh(case, body.version)
    service.link(
        db, case, kind=body.kind, external_id=body.external_id, actor=actor_of(staff), now=utcnow()
    )
    db.commit()
    return link_reads(service.links(db, case))


@router.post("/cases/{reference}/resolve", response_model=CaseRead)
def resolve_case(
    staff: Writer,
    reference: Reference,
    body: ResolveIn,
    db: DbSession,
    settings: SettingsDep,
    senders: SendersDep,
) -> CaseRead:
    case = service.get_case(db, reference, for_update=True)
    work.check_fresh(case, body.version)
    mailed = work.resolve(
        db,
        case,
        code=body.resolution_code,
        summary=body.summary,
        actor=actor_of(staff),
        settings=settings,
        senders=senders,
    )
    db.commit()
    email_jobs.dispatch(mailed)
    return CaseRead.model_validate(case)


@router.post("/cases/{reference}/close", response_model=CaseRead)
def close_case(
    staff: Writer, reference: Reference, db: DbSession, settings: SettingsDep
) -> CaseRead:
    case = service.get_case(db, reference, for_update=True)
    conversation.close(db, case, actor=actor_of(staff), settings=settings)
    db.commit()
    return CaseRead.model_validate(case)
