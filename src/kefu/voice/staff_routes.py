"""Staff API for the hotline: call records (and a customer's calls for their timeline),
agents' after-call notes, call-backs owed, and the menu tree for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from kefu import audit
from kefu.cases import service as cases_service
from kefu.channels.deps import get_senders
from kefu.db import DbSession, utcnow
from kefu.deps import SettingsDep
from kefu.identity import service as identity_service
from kefu.identity.deps import StaffPrincipal, require
from kefu.numbers import RowId
from kefu.voice import callbacks, calls, menu
from kefu.voice.schemas import (
    CallbackDone,
    CallbackNumber,
    CallbackRead,
    CallDetail,
    CallEventRead,
    CallRead,
    CallSummaryDrafts,
    CallSummarySend,
    CallSummarySent,
    CallUpdate,
    MenuCheck,
    MenuPublish,
    MenuRead,
)

router = APIRouter(tags=["voice"])
Reader = Annotated[StaffPrincipal, Depends(require("voice.read"))]
Writer = Annotated[StaffPrincipal, Depends(require("voice.write"))]
MenuAdmin = Annotated[StaffPrincipal, Depends(require("voice.menu.manage"))]
CallSid = Annotated[str, Path(min_length=1, max_length=64)]
Limit = Annotated[int, Query(ge=1, le=500)]


def _actor(staff: StaffPrincipal) -> audit.Actor:
    return staff.actor


@router.get("/voice/calls", response_model=list[CallRead])
def list_calls(
    db: DbSession,
    _: Reader,
    customer_id: Annotated[RowId | None, Query(ge=1)] = None,
    status: Annotated[str | None, Query(max_length=12)] = None,
    outcome: Annotated[str | None, Query(max_length=24)] = None,
    limit: Limit = 50,
) -> list[CallRead]:
    flt = calls.CallFilter(customer_id=customer_id, status=status, outcome=outcome)
    return [CallRead.of(call) for call in calls.list_calls(db, flt, limit=limit)]


@router.get("/voice/calls/{call_sid}", response_model=CallDetail)
def read_call(call_sid: CallSid, db: DbSession, _: Reader) -> CallDetail:
    call = calls.require(db, call_sid)
    return CallDetail(
        **CallRead.of(call).model_dump(),
        events=[CallEventRead.of(event) for event in calls.events(db, call)],
    )


@router.patch("/voice/calls/{call_sid}", response_model=CallRead)
def update_call(call_sid: CallSid, body: CallUpdate, db: DbSession, staff: Writer) -> CallRead:
    call = calls.require(db, call_sid, lock=True)
    calls.update_record(
        db,
        call,
        actor=_actor(staff),
        staff_id=staff.user.id,
        now=utcnow(),
        notes=body.notes,
        outcome=body.outcome,
        case_reference=body.case,
    )
    db.commit()
    return CallRead.of(call)


@router.get("/voice/calls/{call_sid}/summary", response_model=CallSummaryDrafts)
def call_summary(
    call_sid: CallSid, db: DbSession, _: Writer, settings: SettingsDep
) -> CallSummaryDrafts:
    """The written summary drafted for the caller, per outcome, to read and edit."""
    call = calls.require(db, call_sid)
    return CallSummaryDrafts(drafts=calls.summary_drafts(db, call, settings))


@router.post("/voice/calls/{call_sid}/summary", response_model=CallSummarySent)
def send_call_summary(
    request: Request,
    call_sid: CallSid,
    body: CallSummarySend,
    db: DbSession,
    staff: Writer,
    settings: SettingsDep,
) -> CallSummarySent:
    """After the call: the case set as ``outcome`` says and the summary sent to the
    caller by SMS (e-mail without a phone), once per call (409 after)."""
    call = calls.require(db, call_sid, lock=True)
    text = calls.send_summary(
        db,
        call,
        outcome=body.outcome,
        text=body.text,
        actor=_actor(staff),
        staff_id=staff.user.id,
        settings=settings,
        senders=get_senders(request),
        now=utcnow(),
    )
    db.commit()
    case = call.case_reference or ""
    return CallSummarySent(
        case=case, case_status=cases_service.get_case(db, case).status, text=text
    )


@router.get("/customers/{customer_id}/calls", response_model=list[CallRead])
def customer_calls(
    customer_id: Annotated[RowId, Path(ge=1)], db: DbSession, _: Reader, limit: Limit = 50
) -> list[CallRead]:
    """The customer's calls, newest first, for the timeline in the console."""
    identity_service.get_customer(db, customer_id)
    flt = calls.CallFilter(customer_id=customer_id)
    return [CallRead.of(call) for call in calls.list_calls(db, flt, limit=limit)]


@router.get("/voice/callbacks", response_model=list[CallbackRead])
def list_callbacks(
    db: DbSession,
    _: Reader,
    status: Annotated[str | None, Query(pattern=r"^(requested|done)$")] = "requested",
    limit: Limit = 50,
) -> list[CallbackRead]:
    rows = callbacks.list_callbacks(db, status=status, limit=limit)
    return [CallbackRead.of(row, callbacks.call_of(db, row).call_sid) for row in rows]


@router.post("/voice/callbacks/{callback_id}/number", response_model=CallbackNumber)
def callback_number(
    callback_id: Annotated[RowId, Path(ge=1)], db: DbSession, staff: Writer
) -> CallbackNumber:
    """The full number to dial; each reading is audited."""
    row = callbacks.get(db, callback_id)
    number = callbacks.reveal_number(db, row, actor=_actor(staff))
    db.commit()
    return CallbackNumber(number=number)


@router.post("/voice/callbacks/{callback_id}/done", response_model=CallbackRead)
def callback_done(
    callback_id: Annotated[RowId, Path(ge=1)], body: CallbackDone, db: DbSession, staff: Writer
) -> CallbackRead:
    row = callbacks.get(db, callback_id, lock=True)
    callbacks.complete(
        db,
        row,
        staff_id=staff.user.id,
        actor=_actor(staff),
        outcome=body.outcome,
        notes=body.notes,
        now=utcnow(),
    )
    db.commit()
    return CallbackRead.of(row, callbacks.call_of(db, row).call_sid)


@router.get("/voice/menu", response_model=MenuRead)
def read_menu(db: DbSession, _: Reader) -> MenuRead:
    row = menu.live(db)
    db.commit()  # the shipped menu, published on first use
    return MenuRead.of(row)


@router.get("/voice/menu/versions", response_model=list[MenuRead])
def menu_versions(db: DbSession, _: MenuAdmin, limit: Limit = 20) -> list[MenuRead]:
    return [MenuRead.of(row) for row in menu.versions(db, limit=limit)]


@router.post("/voice/menu/check", response_model=MenuCheck)
def check_menu(body: MenuPublish, _: MenuAdmin) -> MenuCheck:
    tree, problems = menu.check(body.tree)
    return MenuCheck(ok=tree is not None and not problems, problems=problems)


@router.put("/voice/menu", response_model=MenuRead)
def publish_menu(body: MenuPublish, db: DbSession, staff: MenuAdmin) -> MenuRead:
    row = menu.publish(db, body.tree, actor=_actor(staff), comment=body.comment)
    db.commit()
    return MenuRead.of(row)
