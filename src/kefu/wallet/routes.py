"""Staff API on the wallet port: look-ups and support actions.

Every POST that changes something needs an ``Idempotency-Key`` header, so a retried
request (a double click, a flaky network) never acts twice. ``case`` and ``customer_id``
query parameters tie the audit row to the case and customer being served.

An unfreeze is never done at once: ``…/unfreeze`` files a request in the approval queue
the console uses, and ``…/unfreeze/decision`` decides it under the same four-eyes rule
(``kefu.approvals.service``). A decision needs no key: a request is decided once, and the
same person's repeated decision is answered without acting again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query

from kefu import audit
from kefu.approvals import service as approvals_service
from kefu.approvals.schemas import ApprovalView
from kefu.db import DbSession
from kefu.deps import SettingsDep, StaffPrincipal, require
from kefu.errors import PermissionDenied
from kefu.identity.permissions import has_permission
from kefu.numbers import RowId
from kefu.wallet.errors import WalletNotFound
from kefu.wallet.port import ActionContext, WalletGateway, build_gateway
from kefu.wallet.schemas import (
    AccountView,
    DisputeDecisionIn,
    DisputeIn,
    DisputeView,
    FreezeIn,
    LimitIn,
    LimitView,
    LoginEventView,
    RefundDecisionIn,
    RefundIn,
    RefundView,
    TransactionFilter,
    TransactionView,
    UnfreezeDecisionIn,
    UnfreezeIn,
)

router = APIRouter(prefix="/wallet", tags=["wallet"])


def get_wallet(db: DbSession, settings: SettingsDep) -> WalletGateway:
    return build_gateway(settings, db)


WalletDep = Annotated[WalletGateway, Depends(get_wallet)]
Reader = Annotated[StaffPrincipal, Depends(require("wallet.read"))]
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=100)]
CaseRef = Annotated[str | None, Query(alias="case", max_length=40)]
CustomerId = Annotated[RowId | None, Query()]


def acting(permission: str) -> Callable[..., ActionContext]:
    """Who acts (holding ``permission``), under which idempotency key, on which case and
    customer: the context every support action carries into the port and the audit row."""

    def dependency(
        key: IdempotencyKey,
        # a default, not an Annotated alias: string annotations cannot see ``permission``
        staff: StaffPrincipal = Depends(require(permission)),  # noqa: B008
        case: CaseRef = None,
        customer_id: CustomerId = None,
    ) -> ActionContext:
        return ActionContext(
            key=key,
            actor=audit.Actor(f"staff:{staff.user.username}", staff.user.role),
            case_reference=case,
            customer_id=customer_id,
        )

    return dependency


Acting = Annotated[ActionContext, Depends(acting("wallet.act"))]


@router.get("/accounts", response_model=AccountView)
def find_account(
    wallet: WalletDep,
    _: Reader,
    phone: str | None = None,
    email: str | None = None,
    account_id: str | None = None,
) -> AccountView:
    found = wallet.find_account(account_id=account_id, phone=phone, email=email)
    if found is None:
        raise WalletNotFound(
            "no such wallet account", what="account", ref=account_id or phone or email or ""
        )
    return found


@router.get("/accounts/{account_id}", response_model=AccountView)
def get_account(account_id: str, wallet: WalletDep, _: Reader) -> AccountView:
    return wallet.get_account(account_id)


@router.get("/accounts/{account_id}/transactions", response_model=list[TransactionView])
def list_transactions(
    account_id: str,
    wallet: WalletDep,
    _: Reader,
    filters: Annotated[TransactionFilter, Query()],
) -> list[TransactionView]:
    return wallet.list_transactions(account_id, filters)


@router.get("/accounts/{account_id}/top-ups", response_model=list[TransactionView])
def find_top_ups(
    account_id: str,
    wallet: WalletDep,
    _: Reader,
    amount: Annotated[str | None, Query(pattern=r"^[0-9]{1,12}(\.[0-9]{1,2})?$")] = None,
    around: datetime | None = None,
    card_last4: Annotated[str | None, Query(pattern=r"^[0-9]{4}$")] = None,
) -> list[TransactionView]:
    return wallet.find_top_ups(account_id, amount=amount, around=around, card_last4=card_last4)


@router.get("/accounts/{account_id}/logins", response_model=list[LoginEventView])
def login_events(account_id: str, wallet: WalletDep, _: Reader) -> list[LoginEventView]:
    return wallet.login_events(account_id)


@router.get("/accounts/{account_id}/limits", response_model=list[LimitView])
def get_limits(account_id: str, wallet: WalletDep, _: Reader) -> list[LimitView]:
    return wallet.get_limits(account_id)


@router.get("/accounts/{account_id}/refunds", response_model=list[RefundView])
def list_refunds(account_id: str, wallet: WalletDep, _: Reader) -> list[RefundView]:
    return wallet.list_refunds(account_id)


@router.get("/accounts/{account_id}/disputes", response_model=list[DisputeView])
def list_disputes(account_id: str, wallet: WalletDep, _: Reader) -> list[DisputeView]:
    return wallet.list_disputes(account_id)


@router.get("/transactions/{transaction_id}", response_model=TransactionView)
def get_transaction(transaction_id: str, wallet: WalletDep, _: Reader) -> TransactionView:
    return wallet.get_transaction(transaction_id)


@router.post("/accounts/{account_id}/unlock", response_model=AccountView)
def unlock(
    account_id: str,
    wallet: WalletDep,
    db: DbSession,
    ctx: Acting,
) -> AccountView:
    view = wallet.unlock(account_id, ctx=ctx)
    db.commit()
    return view


@router.post("/accounts/{account_id}/freeze", response_model=AccountView)
def freeze(
    account_id: str,
    body: FreezeIn,
    wallet: WalletDep,
    db: DbSession,
    ctx: Acting,
) -> AccountView:
    view = wallet.freeze(account_id, reason=body.reason, ctx=ctx)
    db.commit()
    return view


@router.post("/accounts/{account_id}/unfreeze", response_model=ApprovalView, status_code=202)
def request_unfreeze(
    account_id: str,
    body: UnfreezeIn,
    wallet: WalletDep,
    db: DbSession,
    ctx: Acting,
    staff: Annotated[StaffPrincipal, Depends(require("wallet.act"))],
) -> ApprovalView:
    """Files the request; the account stays frozen until another person approves it."""
    request = approvals_service.request_unfreeze(
        db,
        wallet,
        account_id=account_id,
        key=ctx.key,
        reason=body.reason,
        requester=staff.user,
        customer_id=ctx.customer_id,
        case_reference=ctx.case_reference,
    )
    db.commit()
    return ApprovalView.model_validate(request)


@router.post("/accounts/{account_id}/unfreeze/decision", response_model=AccountView)
def decide_unfreeze(
    account_id: str,
    body: UnfreezeDecisionIn,
    wallet: WalletDep,
    db: DbSession,
    staff: Annotated[StaffPrincipal, Depends(require("wallet.unfreeze"))],
) -> AccountView:
    approvals_service.decide_latest(
        db,
        action="unfreeze",
        target_id=account_id,
        approve=body.approve,
        reason=body.reason,
        decider=staff.user,
        wallet=wallet,
    )
    db.commit()
    return wallet.get_account(account_id)


@router.post("/accounts/{account_id}/password-reset", response_model=AccountView)
def start_password_reset(
    account_id: str,
    wallet: WalletDep,
    db: DbSession,
    ctx: Acting,
) -> AccountView:
    view = wallet.start_password_reset(account_id, ctx=ctx)
    db.commit()
    return view


@router.post("/accounts/{account_id}/limits", response_model=list[LimitView])
def set_limits(
    account_id: str,
    body: LimitIn,
    wallet: WalletDep,
    db: DbSession,
    ctx: Annotated[ActionContext, Depends(acting("wallet.limits"))],
) -> list[LimitView]:
    views = wallet.set_limits(
        account_id,
        kind=body.kind,
        per_day=body.per_day,
        per_txn=body.per_txn,
        ctx=ctx,
    )
    db.commit()
    return views


@router.post("/transactions/{transaction_id}/reverse", response_model=TransactionView)
def reverse_payment(
    transaction_id: str,
    wallet: WalletDep,
    db: DbSession,
    ctx: Acting,
) -> TransactionView:
    view = wallet.reverse_payment(transaction_id, ctx=ctx)
    db.commit()
    return view


@router.post("/refunds", response_model=RefundView, status_code=201)
def create_refund(
    body: RefundIn,
    wallet: WalletDep,
    db: DbSession,
    settings: SettingsDep,
    ctx: Acting,
    staff: Annotated[StaffPrincipal, Depends(require("wallet.act"))],
) -> RefundView:
    """A refund above the approval amount also joins the supervisors' approval queue."""
    view = wallet.create_refund(
        body.transaction_id,
        amount=body.amount,
        reason=body.reason,
        ctx=ctx,
    )
    approvals_service.file_refund_review(
        db,
        refund=view,
        key=ctx.key,
        requester=staff.user,
        reason=body.reason,
        customer_id=ctx.customer_id,
        case_reference=ctx.case_reference,
        threshold=settings.approval_amount_above,
    )
    db.commit()
    return view


@router.post("/refunds/{refund_id}/decision", response_model=RefundView)
def decide_refund(
    refund_id: str,
    body: RefundDecisionIn,
    wallet: WalletDep,
    db: DbSession,
    ctx: Annotated[ActionContext, Depends(acting("wallet.refund.decide"))],
    staff: Annotated[StaffPrincipal, Depends(require("wallet.refund.decide"))],
) -> RefundView:
    """Refunds above the threshold are a supervisor's decision; one waiting in the
    approval queue is decided there, under the four-eyes rule."""
    if wallet.get_refund(refund_id).needs_supervisor and not has_permission(
        ctx.actor.role, "wallet.refund.decide_large"
    ):
        raise PermissionDenied("refunds above the threshold need a supervisor")
    waiting = approvals_service.pending_for(db, action="refund", target_id=refund_id)
    if waiting is not None:
        approvals_service.decide(
            db,
            approval_id=waiting.id,
            approve=body.approve,
            reason=body.reason,
            decider=staff.user,
            wallet=wallet,
        )
        db.commit()
        return wallet.get_refund(refund_id)
    view = wallet.decide_refund(refund_id, approve=body.approve, reason=body.reason, ctx=ctx)
    db.commit()
    return view


@router.post("/disputes", response_model=DisputeView, status_code=201)
def open_dispute(
    body: DisputeIn,
    wallet: WalletDep,
    db: DbSession,
    ctx: Acting,
) -> DisputeView:
    view = wallet.open_dispute(body.transaction_id, reason=body.reason, ctx=ctx)
    db.commit()
    return view


@router.post("/disputes/{dispute_id}/decision", response_model=DisputeView)
def decide_dispute(
    dispute_id: str,
    body: DisputeDecisionIn,
    wallet: WalletDep,
    db: DbSession,
    ctx: Annotated[ActionContext, Depends(acting("wallet.dispute.decide"))],
) -> DisputeView:
    view = wallet.decide_dispute(
        dispute_id,
        outcome=body.outcome,
        reason=body.reason,
        ctx=ctx,
    )
    db.commit()
    return view
