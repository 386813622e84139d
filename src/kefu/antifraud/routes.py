"""Public anti-fraud API: the official channel list, "is this really yours?", scam reports,
and a verified customer's "is someone from you calling me?"."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, UploadFile
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from kefu import ratelimit
from kefu.antifraud import lookups, reports, service
from kefu.antifraud.schemas import OutboundCallView, PublicKind
from kefu.config import Settings
from kefu.db import DbSession
from kefu.deps import LangDep, SettingsDep
from kefu.i18n import translate
from kefu.identity.deps import CurrentCustomer
from kefu.storage import Storage

router = APIRouter(tags=["anti-fraud"])
VALUE_QUERY_MAX = 4096


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def storage_of(request: Request) -> Storage:
    built: Storage = request.app.state.storage
    return built


StorageDep = Annotated[Storage, Depends(storage_of)]


class ChannelRead(BaseModel):
    kind: PublicKind
    value: str
    label: str
    notes: str


class VerifyRead(BaseModel):
    value: str
    kind: str
    verdict: str
    reason: str
    advice: str


class ReportReceiptRead(BaseModel):
    report_id: int
    kind: str
    value: str
    status: str
    report_count: int
    counted: bool
    screenshots: int
    message: str


class CallRead(BaseModel):
    agent_name: str
    agent_number: str
    case_reference: str | None
    reason: str
    caller_number: str
    window_start: datetime
    window_end: datetime

    @classmethod
    def of(cls, call: OutboundCallView) -> CallRead:
        return cls(
            agent_name=call.agent_name,
            agent_number=call.agent_number,
            case_reference=call.case_reference,
            reason=call.reason,
            caller_number=call.caller_number,
            window_start=call.window_start,
            window_end=call.window_end,
        )


class CallConfirmationRead(BaseModel):
    calling: bool
    message: str
    calls: list[CallRead]


@router.get("/channels", response_model=list[ChannelRead])
def list_channels(db: DbSession, lang: LangDep) -> list[ChannelRead]:
    """Every official channel, in the caller's language: the same list Contact us, the
    assistant and the phone menu use."""
    return [
        ChannelRead(
            kind=channel.kind,
            value=channel.value,
            label=channel.label(lang),
            notes=channel.notes(lang),
        )
        for channel in service.contact_channels(db)
    ]


def _limit(
    db: DbSession, settings: Settings, *, bucket: str, client: str, limit: int, window: int
) -> None:
    ratelimit.hit(
        db,
        bucket=bucket,
        key=client,
        limit=limit,
        window_seconds=window,
        secret=settings.secret_key,
    )


@router.get("/verify", response_model=VerifyRead)
def verify(
    request: Request,
    db: DbSession,
    lang: LangDep,
    settings: SettingsDep,
    value: Annotated[str, Query(max_length=VALUE_QUERY_MAX)] = "",
) -> VerifyRead:
    """Is this phone number, web address, e-mail address or account really ours?"""
    client = client_of(request)
    _limit(
        db,
        settings,
        bucket="antifraud.verify",
        client=client,
        limit=settings.antifraud_verify_per_minute,
        window=60,
    )
    db.commit()  # the look-up counts against the limit even when the value is refused
    result = service.verify(db, value, lang=lang, client_key=f"ip:{client}", settings=settings)
    db.commit()
    return VerifyRead(**result.public())


@router.post("/antifraud/reports", response_model=ReportReceiptRead, status_code=201)
async def report_scam(
    request: Request,
    db: DbSession,
    lang: LangDep,
    settings: SettingsDep,
    store: StorageDep,
    value: Annotated[str, Form(max_length=VALUE_QUERY_MAX)],
    description: Annotated[str, Form(max_length=reports.MAX_DESCRIPTION * 2)] = "",
    screenshots: list[UploadFile] | None = None,
) -> ReportReceiptRead:
    """Report a suspicious number, site or account, with up to three screenshots."""
    files = list(screenshots or [])
    if len(files) > reports.MAX_SCREENSHOTS:
        files = files[: reports.MAX_SCREENSHOTS + 1]  # enough to refuse, not to read them all
    shots = [
        reports.Screenshot(
            filename=upload.filename or "",
            data=await upload.read(settings.attachment_max_bytes + 1),
        )
        for upload in files
    ]
    client = client_of(request)

    # Database work stays off the event loop (see kefu.identity.deps.sent_csrf_token for why).
    def record() -> ReportReceiptRead:
        _limit(
            db,
            settings,
            bucket="antifraud.report",
            client=client,
            limit=settings.antifraud_reports_per_hour,
            window=3600,
        )
        db.commit()
        receipt = service.submit_report(
            db,
            value=value,
            description=description,
            lang=lang,
            settings=settings,
            storage=store,
            client_hash=lookups.client_digest(settings.secret_key, f"ip:{client}"),
            screenshots=shots,
        )
        db.commit()
        return ReportReceiptRead(
            report_id=receipt.report_id,
            kind=receipt.kind,
            value=receipt.value,
            status=receipt.status,
            report_count=receipt.report_count,
            counted=receipt.counted,
            screenshots=receipt.screenshots,
            message=translate("antifraud.report.received", lang, count=receipt.report_count),
        )

    return await run_in_threadpool(record)


@router.get("/antifraud/calling-me", response_model=CallConfirmationRead)
def calling_me(
    customer: CurrentCustomer,
    db: DbSession,
    lang: LangDep,
    settings: SettingsDep,
    number: Annotated[str | None, Query(max_length=64)] = None,
) -> CallConfirmationRead:
    """A verified customer asks whether the call they are getting is really from us."""
    answer = service.confirm_call(
        db, customer.customer.id, lang=lang, number=number or None, settings=settings
    )
    return CallConfirmationRead(
        calling=answer.calling, message=answer.message, calls=[CallRead.of(c) for c in answer.calls]
    )
