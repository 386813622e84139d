"""Staff anti-fraud API: the registry (admins edit, with history), scam reports
(specialists review), look-up figures (supervisors), genuine outbound calls (agents) and
scam flags."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from kefu import audit, paging
from kefu.antifraud import lookups, registry, reports, service
from kefu.antifraud.routes import VALUE_QUERY_MAX, CallRead, StorageDep
from kefu.antifraud.schemas import EntryFields, OutboundCallView
from kefu.db import DbSession, utcnow
from kefu.deps import LangDep, SettingsDep
from kefu.identity.deps import StaffPrincipal, require
from kefu.numbers import Count, RowId

router = APIRouter(prefix="/antifraud", tags=["anti-fraud"])
Reader = Annotated[StaffPrincipal, Depends(require("antifraud.read"))]
Manager = Annotated[StaffPrincipal, Depends(require("antifraud.manage"))]
Reviewer = Annotated[StaffPrincipal, Depends(require("antifraud.review"))]
Supervisor = Annotated[StaffPrincipal, Depends(require("antifraud.lookups"))]
Caller = Annotated[StaffPrincipal, Depends(require("antifraud.outbound"))]
EntryId = Annotated[RowId, Path()]


def actor_of(staff: StaffPrincipal) -> audit.Actor:
    return staff.actor


class CheckRead(BaseModel):
    value: str
    kind: str
    verdict: str
    reason: str
    advice: str
    label: str | None
    imitation_of: str | None
    reported_on: date | None


class EntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    role: str
    status: str
    value: str
    normalised: str
    label_zh: str
    label_en: str
    notes_zh: str
    notes_en: str
    toll_free: bool | None
    cost_zh: str
    cost_en: str
    hours_zh: str
    hours_en: str
    public: bool
    position: int
    source: str
    reported_on: date | None
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class EntryPage(BaseModel):
    total: int
    items: list[EntryRead]
    next_cursor: str | None = None  # where the next page starts; None on the last


class EntryEdit(EntryFields):
    version: RowId | None = Field(default=None, description="the version edited")


class VersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    change: str
    data: dict[str, Any]
    edited_by: str
    edited_at: datetime


class ReportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    value: str
    normalised: str
    status: str
    report_count: int
    first_reported_at: datetime
    last_reported_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str | None
    entry_id: int | None


class ReportPage(BaseModel):
    total: int
    items: list[ReportRead]
    next_cursor: str | None = None  # where the next page starts; None on the last


class ScreenshotRead(BaseModel):
    public_id: str
    content_type: str
    size: int


class ReportItemRead(BaseModel):
    description: str
    lang: str
    counted: bool
    created_at: datetime
    screenshots: list[ScreenshotRead]


class ReportDetail(ReportRead):
    items: list[ReportItemRead]


class ReviewCreate(BaseModel):
    decision: Literal["confirm", "reject"]
    note: str = Field(default="", max_length=2000)
    label_zh: str = Field(default="", max_length=120)
    label_en: str = Field(default="", max_length=120)


class TrendRead(BaseModel):
    kind: str
    value: str
    verdict: str
    total: int
    today: int
    clients_today: int
    previous_daily_average: float
    surging: bool
    by_day: dict[date, int]


class CallCreate(BaseModel):
    customer_id: RowId
    reason: str = Field(min_length=1, max_length=300)
    case_reference: str | None = Field(default=None, max_length=40)
    caller_number: str | None = Field(default=None, max_length=64)
    starts_at: datetime | None = None
    minutes: int = Field(default=30, ge=1, le=24 * 60)


class StaffCallRead(CallRead):
    public_id: str
    status: str

    @classmethod
    def of_view(cls, call: OutboundCallView) -> StaffCallRead:
        return cls(public_id=call.public_id, status=call.status, **CallRead.of(call).model_dump())


class FlagRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int | None
    conversation_id: int | None
    case_reference: str | None
    channel: str
    kinds: list[str]
    excerpt: str
    status: str
    created_at: datetime
    handled_by: str | None
    handled_at: datetime | None
    handling_note: str | None


class FlagHandle(BaseModel):
    note: str = Field(default="", max_length=2000)


@router.get("/check", response_model=CheckRead)
def check(
    staff: Reader,
    db: DbSession,
    lang: LangDep,
    settings: SettingsDep,
    value: Annotated[str, Query(max_length=VALUE_QUERY_MAX)] = "",
) -> CheckRead:
    """An agent checks a value for a customer on the line (counted, not rate-limited)."""
    result = service.verify(
        db, value, lang=lang, client_key=f"staff:{staff.user.username}", settings=settings
    )
    db.commit()
    return CheckRead(
        **result.public(),
        label=result.label,
        imitation_of=result.imitation_of,
        reported_on=result.reported_on,
    )


@router.get("/registry", response_model=EntryPage)
def list_registry(
    _: Reader,
    db: DbSession,
    kind: Annotated[str | None, Query(max_length=16)] = None,
    status: Annotated[Literal["official", "scam"] | None, Query()] = None,
    active: bool | None = True,
    q: Annotated[str | None, Query(max_length=300)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=400, description=paging.CURSOR_HELP)] = None,
    offset: Annotated[Count, Query(ge=0, deprecated=True, description=paging.OFFSET_HELP)] = 0,
) -> EntryPage:
    read, total = registry.list_entries(
        db,
        registry.EntryFilter(kind=kind, status=status, active=active, query=q),
        limit=limit + 1,
        offset=offset,
        after=cursor,
    )
    rows, next_cursor = registry.LIST_ORDER.cut(read, limit)
    return EntryPage(
        total=total,
        items=[EntryRead.model_validate(row) for row in rows],
        next_cursor=next_cursor,
    )


@router.get("/registry/{entry_id}", response_model=EntryRead)
def get_entry(entry_id: EntryId, _: Reader, db: DbSession) -> EntryRead:
    return EntryRead.model_validate(registry.get_entry(db, entry_id))


@router.get("/registry/{entry_id}/history", response_model=list[VersionRead])
def entry_history(entry_id: EntryId, _: Reader, db: DbSession) -> list[VersionRead]:
    return [VersionRead.model_validate(row) for row in registry.history(db, entry_id)]


@router.post("/registry", response_model=EntryRead, status_code=201)
def create_entry(body: EntryFields, staff: Manager, db: DbSession) -> EntryRead:
    entry = registry.create_entry(db, body, actor=actor_of(staff))
    db.commit()
    return EntryRead.model_validate(entry)


@router.put("/registry/{entry_id}", response_model=EntryRead)
def update_entry(entry_id: EntryId, body: EntryEdit, staff: Manager, db: DbSession) -> EntryRead:
    fields = EntryFields.model_validate(body.model_dump(exclude={"version"}))
    entry = registry.update_entry(
        db, entry_id, fields, actor=actor_of(staff), expected_version=body.version
    )
    db.commit()
    return EntryRead.model_validate(entry)


@router.post("/registry/{entry_id}/retire", response_model=EntryRead)
def retire_entry(entry_id: EntryId, staff: Manager, db: DbSession) -> EntryRead:
    entry = registry.set_active(db, entry_id, active=False, actor=actor_of(staff))
    db.commit()
    return EntryRead.model_validate(entry)


@router.post("/registry/{entry_id}/restore", response_model=EntryRead)
def restore_entry(entry_id: EntryId, staff: Manager, db: DbSession) -> EntryRead:
    entry = registry.set_active(db, entry_id, active=True, actor=actor_of(staff))
    db.commit()
    return EntryRead.model_validate(entry)


@router.get("/reports", response_model=ReportPage)
def list_reports(
    _: Reviewer,
    db: DbSession,
    status: Annotated[Literal["pending", "confirmed", "rejected"] | None, Query()] = "pending",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=400, description=paging.CURSOR_HELP)] = None,
    offset: Annotated[Count, Query(ge=0, deprecated=True, description=paging.OFFSET_HELP)] = 0,
) -> ReportPage:
    read, total = service.list_reports(
        db, status=status, limit=limit + 1, offset=offset, after=cursor
    )
    rows, next_cursor = reports.LIST_ORDER.cut(read, limit)
    return ReportPage(
        total=total,
        items=[ReportRead.model_validate(row) for row in rows],
        next_cursor=next_cursor,
    )


def _detail(db: DbSession, report_id: int) -> ReportDetail:
    report = service.get_report(db, report_id)
    items = [
        ReportItemRead(
            description=item.description,
            lang=item.lang,
            counted=item.counted,
            created_at=item.created_at,
            screenshots=[
                ScreenshotRead(public_id=f.public_id, content_type=f.content_type, size=f.size)
                for f in files
            ],
        )
        for item, files in reports.report_items(db, report)
    ]
    return ReportDetail(**ReportRead.model_validate(report).model_dump(), items=items)


@router.get("/reports/{report_id}", response_model=ReportDetail)
def get_report(report_id: Annotated[RowId, Path(ge=1)], _: Reviewer, db: DbSession) -> ReportDetail:
    return _detail(db, report_id)


@router.get("/reports/{report_id}/screenshots/{public_id}")
def get_screenshot(
    report_id: Annotated[RowId, Path(ge=1)],
    public_id: Annotated[str, Path(max_length=32)],
    _: Reviewer,
    db: DbSession,
    store: StorageDep,
) -> Response:
    row = reports.get_screenshot(db, service.get_report(db, report_id), public_id)
    return Response(
        store.get(row.storage_key),
        media_type=row.content_type,
        headers={"Content-Disposition": f'attachment; filename="{row.public_id}"'},
    )


@router.post("/reports/{report_id}/review", response_model=ReportDetail)
def review_report(
    report_id: Annotated[RowId, Path(ge=1)], body: ReviewCreate, staff: Reviewer, db: DbSession
) -> ReportDetail:
    service.review_report(
        db,
        report_id,
        decision=body.decision,
        note=body.note,
        label_zh=body.label_zh,
        label_en=body.label_en,
        actor=actor_of(staff),
    )
    db.commit()
    return _detail(db, report_id)


@router.get("/lookups", response_model=list[TrendRead])
def lookup_trends(
    _: Supervisor,
    db: DbSession,
    settings: SettingsDep,
    days: Annotated[int, Query(ge=1, le=lookups.MAX_DAYS)] = 7,
    kind: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    day: date | None = None,
) -> list[TrendRead]:
    """The most-checked values per day, surging ones first: the early warning of a wave."""
    today = day or utcnow().astimezone(settings.tz).date()
    return [
        TrendRead(
            kind=t.kind,
            value=t.value,
            verdict=t.verdict,
            total=t.total,
            today=t.today,
            clients_today=t.clients_today,
            previous_daily_average=round(t.previous_daily_average, 2),
            surging=t.surging,
            by_day=t.by_day,
        )
        for t in lookups.trends(db, today=today, days=days, kind=kind, limit=limit)
    ]


@router.post("/outbound-calls", response_model=StaffCallRead, status_code=201)
def register_call(body: CallCreate, staff: Caller, db: DbSession) -> StaffCallRead:
    """Record a call before making it, so the customer can confirm it is really us."""
    call = service.register_outbound_call(
        db,
        staff_id=staff.user.id,
        agent_name=staff.user.display_name,
        customer_id=body.customer_id,
        reason=body.reason,
        case_reference=body.case_reference,
        caller_number=body.caller_number,
        starts_at=body.starts_at,
        minutes=body.minutes,
        actor=actor_of(staff),
    )
    db.commit()
    return StaffCallRead.of_view(service.outbound_view(call))


@router.get("/outbound-calls", response_model=list[StaffCallRead])
def list_calls(
    _: Caller,
    db: DbSession,
    customer_id: Annotated[RowId | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[StaffCallRead]:
    return [
        StaffCallRead.of_view(call)
        for call in service.list_outbound_calls(db, customer_id=customer_id, limit=limit)
    ]


@router.post("/outbound-calls/{public_id}/cancel", response_model=StaffCallRead)
def cancel_call(
    public_id: Annotated[str, Path(max_length=24)], staff: Caller, db: DbSession
) -> StaffCallRead:
    call = service.cancel_outbound_call(db, public_id, actor=actor_of(staff))
    db.commit()
    return StaffCallRead.of_view(service.outbound_view(call))


@router.get("/flags", response_model=list[FlagRead])
def list_flags(
    _: Reader,
    db: DbSession,
    conversation_id: Annotated[RowId | None, Query(ge=1)] = None,
    case_reference: Annotated[str | None, Query(max_length=40)] = None,
    customer_id: Annotated[RowId | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[FlagRead]:
    """Flags on a conversation, case or customer; without a filter, the open queue."""
    if conversation_id is None and case_reference is None and customer_id is None:
        rows = service.open_flags(db, limit=limit)
    else:
        rows = service.flags_for(
            db,
            conversation_id=conversation_id,
            case_reference=case_reference,
            customer_id=customer_id,
        )
    return [FlagRead.model_validate(row) for row in rows]


@router.post("/flags/{flag_id}/handle", response_model=FlagRead)
def handle_flag(
    flag_id: Annotated[RowId, Path(ge=1)], body: FlagHandle, staff: Reviewer, db: DbSession
) -> FlagRead:
    row = service.handle_flag(db, flag_id, note=body.note, actor=actor_of(staff))
    db.commit()
    return FlagRead.model_validate(row)
