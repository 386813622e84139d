"""Staff API for support actions on a wallet account, under ``/api/v1/wallet``.

Every POST that changes something needs an ``Idempotency-Key`` header, so a retried
request (a double click, a flaky network) never acts twice. ``case`` and ``customer_id``
query parameters tie the audit row to the case and customer being served.

Money actions answer ``201``/``200`` when done and ``202`` when they wait for a
supervisor under the four-eyes rule (``kefu.support.money``), exactly as the console's
twin of each action does. An unfreeze is never done at once: ``…/unfreeze`` files a
request in the approval queue, and ``…/unfreeze/decision`` decides it. Any waiting request
is decided by its id at ``…/approvals/{id}/decision``, the console queue's twin; every
decision route calls ``kefu.support.approval.decide``. A decision needs no key: a request
is decided once, and the same person's repeated decision is answered without acting
again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response

from kefu.approvals import service as approvals_service
from kefu.approvals.schemas import ApprovalDecisionIn, ApprovalView
from kefu.channels.deps import get_senders
from kefu.db import DbSession
from kefu.deps import SettingsDep
from kefu.identity.deps import StaffPrincipal, require
from kefu.numbers import RowId
from kefu.support import account, approval, money, trace
from kefu.support.requester import Requester
from kefu.wallet.deps import WalletDep
from kefu.wallet.schemas import (
    AccountView,
    DisputeDecisionIn,
    DisputeIn,
    DisputeView,
    FreezeIn,
    LimitIn,
    LimitView,
    RefundDecisionIn,
    RefundIn,
    RefundView,
    ReverseIn,
    TraceIn,
    TraceView,
    TransactionView,
    UnfreezeDecisionIn,
    UnfreezeIn,
)

router = APIRouter(prefix="/wallet", tags=["wallet"])
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=100)]
CaseRef = Annotated[str | None, Query(alias="case", max_length=40)]
CustomerId = Annotated[RowId | None, Query()]


def asking(permission: str) -> Callable[..., money.Asked]:
    """Who asks (a staff member holding ``permission``), under which idempotency key, on
    which case and customer: what every support command carries to the audit row."""

    def dependency(
        key: IdempotencyKey,
        # a default, not an Annotated alias: string annotations cannot see ``permission``
        staff: StaffPrincipal = Depends(require(permission)),  # noqa: B008
        case: CaseRef = None,
        customer_id: CustomerId = None,
    ) -> money.Asked:
        return money.Asked(
            requester=Requester.of_staff(staff.user),
            key=key,
            reason="",
            case_reference=case,
            customer_id=customer_id,
        )

    return dependency


Acting = Annotated[money.Asked, Depends(asking("wallet.act"))]


def _cleaned(reason: str | None) -> str:
    return approvals_service.clean_reason(reason, required=False) or ""


def _money(db: DbSession, wallet: WalletDep, settings: SettingsDep) -> money.Money:
    return money.Money(db, wallet, settings)


MoneyDep = Annotated[money.Money, Depends(_money)]


def _waiting(response: Response, waiting: bool) -> None:
    if waiting:
        response.status_code = 202


@router.post("/accounts/{account_id}/unlock", response_model=AccountView)
def unlock(account_id: str, m: MoneyDep, asked: Acting) -> AccountView:
    view = account.unlock(m, asked, account_id=account_id)
    m.db.commit()
    return view


@router.post("/accounts/{account_id}/freeze", response_model=AccountView)
def freeze(account_id: str, body: FreezeIn, m: MoneyDep, asked: Acting) -> AccountView:
    view = account.freeze(m, asked, account_id=account_id, reason=body.reason)
    m.db.commit()
    return view


@router.post("/accounts/{account_id}/unfreeze", response_model=ApprovalView, status_code=202)
def request_unfreeze(account_id: str, body: UnfreezeIn, m: MoneyDep, asked: Acting) -> ApprovalView:
    """Files the request; the account stays frozen until another person approves it."""
    request = account.request_unfreeze(m, replace(asked, reason=body.reason), account_id=account_id)
    m.db.commit()
    return ApprovalView.model_validate(request)


@router.post("/accounts/{account_id}/unfreeze/decision", response_model=AccountView)
def decide_unfreeze(
    account_id: str,
    body: UnfreezeDecisionIn,
    m: MoneyDep,
    staff: Annotated[StaffPrincipal, Depends(require("wallet.unfreeze"))],
) -> AccountView:
    """No key: a request is decided once, and a repeated decision is answered."""
    decider = money.Asked(requester=Requester.of_staff(staff.user), key="", reason="")
    account.decide_unfreeze(
        m, decider, account_id=account_id, approve=body.approve, reason=body.reason
    )
    m.db.commit()
    return m.wallet.get_account(account_id)


@router.post("/approvals/{approval_id}/decision", response_model=ApprovalView)
def decide_approval(
    approval_id: Annotated[RowId, Path()],
    body: ApprovalDecisionIn,
    m: MoneyDep,
    staff: Annotated[StaffPrincipal, Depends(require("approval.decide"))],
) -> ApprovalView:
    """The console queue's approve/reject: the action runs on approval, as the decider;
    the requester never decides their own request, and a decided request stays decided."""
    decider = money.Asked(requester=Requester.of_staff(staff.user), key="", reason="")
    decided = approval.decide(
        m, decider, approval_id=approval_id, approve=body.approve, reason=body.reason
    )
    m.db.commit()
    return ApprovalView.model_validate(decided)


@router.post("/accounts/{account_id}/password-reset", response_model=AccountView)
def start_password_reset(account_id: str, m: MoneyDep, asked: Acting) -> AccountView:
    view = account.start_password_reset(m, asked, account_id=account_id)
    m.db.commit()
    return view


@router.post("/accounts/{account_id}/limits", response_model=list[LimitView])
def set_limits(
    account_id: str,
    body: LimitIn,
    m: MoneyDep,
    asked: Annotated[money.Asked, Depends(asking("wallet.limits"))],
) -> list[LimitView]:
    views = account.set_limits(
        m,
        asked,
        account_id=account_id,
        kind=body.kind,
        per_day=body.per_day,
        per_txn=body.per_txn,
    )
    m.db.commit()
    return views


@router.post("/transactions/{transaction_id}/reverse", response_model=TransactionView)
def reverse_payment(
    transaction_id: str,
    m: MoneyDep,
    asked: Acting,
    response: Response,
    body: Annotated[ReverseIn | None, Body()] = None,
) -> TransactionView:
    """A large return waits for a supervisor (``202``) and then needs a reason."""
    asked = replace(asked, reason=_cleaned(body.reason if body else None))
    done = money.reverse_payment(m, asked, payment_id=transaction_id)
    m.db.commit()
    _waiting(response, done.waiting)
    return done.view


@router.post("/refunds", response_model=RefundView, status_code=201)
def create_refund(body: RefundIn, m: MoneyDep, asked: Acting, response: Response) -> RefundView:
    """Approved at once within what one person may move (``201``), else it waits in
    ``requested`` for a supervisor in the approval queue (``202``)."""
    asked = replace(asked, reason=_cleaned(body.reason))
    done = money.refund(m, asked, payment_id=body.transaction_id, amount=body.amount)
    m.db.commit()
    _waiting(response, done.waiting)
    return done.view


@router.post("/refunds/{refund_id}/decision", response_model=RefundView)
def decide_refund(
    refund_id: str,
    body: RefundDecisionIn,
    m: MoneyDep,
    asked: Annotated[money.Asked, Depends(asking("wallet.refund.decide"))],
    response: Response,
) -> RefundView:
    """One waiting in the approval queue is decided there, under the four-eyes rule; an
    approval beyond what the decider may move alone files it there (``202``)."""
    done = money.decide_refund(
        m, asked, refund_id=refund_id, approve=body.approve, reason=_cleaned(body.reason) or None
    )
    m.db.commit()
    if done.waiting and done.view.status == "requested":
        response.status_code = 202
    return done.view


@router.post("/disputes", response_model=DisputeView | ApprovalView, status_code=201)
def open_dispute(
    body: DisputeIn, m: MoneyDep, asked: Acting, response: Response
) -> DisputeView | ApprovalView:
    """A dispute above the approval amount waits for a supervisor: ``202`` with the
    approval request; the dispute opens when it is approved."""
    asked = replace(asked, reason=_cleaned(body.reason))
    done = money.open_dispute(m, asked, payment_id=body.transaction_id)
    m.db.commit()
    if done.view is None:
        assert done.approval is not None
        response.status_code = 202
        return ApprovalView.model_validate(done.approval)
    return done.view


@router.post("/disputes/{dispute_id}/decision", response_model=DisputeView)
def decide_dispute(
    dispute_id: str,
    body: DisputeDecisionIn,
    m: MoneyDep,
    asked: Annotated[money.Asked, Depends(asking("wallet.dispute.decide"))],
    response: Response,
) -> DisputeView:
    """Upheld, the refund of what is left waits for a supervisor (``202``) when it is
    more than the decider may move alone."""
    asked = replace(asked, reason=_cleaned(body.reason))
    done = money.decide_dispute(m, asked, dispute_id=dispute_id, outcome=body.outcome)
    m.db.commit()
    _waiting(response, done.waiting)
    return done.view


@router.post("/transactions/{transaction_id}/trace", response_model=TraceView, status_code=201)
def trace_movement(
    transaction_id: str,
    body: TraceIn,
    m: MoneyDep,
    asked: Annotated[money.Asked, Depends(asking("case.write"))],
    request: Request,
) -> TraceView:
    """The console's "trace this top-up", for a transfer or withdrawal too: links it to
    ``?case=`` or to the holder's open trace of it, or opens a traced case (充值追查,
    转账追查) whose committed time the customer is told."""
    asked = replace(asked, reason=_cleaned(body.reason))
    reference = trace.trace(m, asked, transaction_id=transaction_id, senders=get_senders(request))
    m.db.commit()
    return TraceView(case_reference=reference)
