"""The supervisors' approval queue (审批): risky support actions waiting for a second
person, oldest first, and the latest decisions. Reading and deciding go through the
support layer (``kefu.support.approval``), as the staff API's decision routes do."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from kefu.db import DbSession
from kefu.deps import SettingsDep
from kefu.identity import service as identity_service
from kefu.identity.deps import CSRF_FIELD, StaffPrincipal, require
from kefu.numbers import RowId
from kefu.support import approval
from kefu.support.base import Asked, Money
from kefu.support.requester import Requester
from kefu.wallet.deps import WalletDep
from kefu.web.forms import form_errors
from kefu.web.templating import render

router = APIRouter(prefix="/console", include_in_schema=False)
Decider = Annotated[StaffPrincipal, Depends(require("approval.decide"))]


def _customers(db: DbSession, rows: list[approval.ApprovalRead]) -> dict[int, Any]:
    ids = {r.request.customer_id for r in rows if r.request.customer_id is not None}
    return {cid: identity_service.get_customer(db, cid) for cid in ids}


def _page(
    request: Request,
    db: DbSession,
    staff: StaffPrincipal,
    *,
    decided: int | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    pending = approval.waiting(db, staff=staff.user)
    recent = approval.recently_decided(db, staff=staff.user, limit=20)
    return render(
        request,
        "console/approvals.html",
        {
            "staff": staff.user,
            "may": staff.may,
            "csrf_token": staff.token.csrf_token,
            "csrf_field": CSRF_FIELD,
            "pending": pending,
            "recent": recent,
            "customers": _customers(db, pending + recent),
            "decided": decided,
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/approvals")
def queue(
    request: Request,
    staff: Decider,
    db: DbSession,
    decided: Annotated[RowId | None, Query()] = None,
) -> Response:
    return _page(request, db, staff, decided=decided)


@router.post("/approvals/{approval_id}/decision")
def decide(
    request: Request,
    staff: Decider,
    db: DbSession,
    wallet: WalletDep,
    settings: SettingsDep,
    approval_id: Annotated[RowId, Path()],
    decision: Annotated[Literal["approve", "reject"], Form()],
    reason: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    with form_errors(db, request.state.lang) as refused:
        approval.decide(
            Money(db, wallet, settings),
            Asked(requester=Requester.of_staff(staff.user), key="", reason=""),
            approval_id=approval_id,
            approve=decision == "approve",
            reason=reason,
        )
    if refused:
        return _page(request, db, staff, error=refused.text, status_code=refused.status)
    db.commit()
    return RedirectResponse(f"/console/approvals?decided={approval_id}", status_code=303)
