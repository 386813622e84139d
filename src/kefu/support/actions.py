"""Support actions on a customer's wallet account, as staff ask for them from the console:
unlock, start a password reset, freeze, request an unfreeze, refund, open a dispute, trace
a top-up, an outgoing transfer or a withdrawal.

Each form calls the same command as its staff API twin (``kefu.support.account``,
``money``, ``trace``), which checks the permission, runs the four-eyes rule, writes the
audit row and notes the action on the case; a risky action becomes an approval request.
The form's key is claimed first, in a ``support_action`` row, so a double click returns
the first outcome and never acts, notes or opens a case twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.approvals import service
from kefu.approvals.models import ApprovalRequest, SupportAction
from kefu.cases import service as cases_service
from kefu.channels.senders import Senders
from kefu.config import Settings
from kefu.db import utcnow
from kefu.errors import InvalidInput, PermissionDenied
from kefu.identity.models import Customer, StaffUser
from kefu.identity.permissions import has_permission
from kefu.support import account, trace
from kefu.support import money as support_money
from kefu.support.requester import Requester
from kefu.wallet.errors import IdempotencyConflict, WalletNotFound
from kefu.wallet.port import WalletGateway
from kefu.wallet.schemas import TransactionView

# action → the permission the person asking needs
PERMISSION: dict[str, str] = {
    "unlock": "wallet.act",
    "password_reset": "wallet.act",
    "freeze": "wallet.act",
    "unfreeze": "wallet.act",
    "refund": "wallet.act",
    "dispute": "wallet.act",
    "trace_topup": "case.write",
    "trace_transfer": "case.write",
    "trace_withdrawal": "case.write",
}
FREEZE_REASONS = account.FREEZE_REASONS


@dataclass(frozen=True)
class SupportRequest:
    action: str
    key: str
    reason: str
    case_reference: str | None = None
    transaction_id: str | None = None
    amount: str | None = None  # a partial refund; the whole payment when not given
    freeze_reason: str | None = None


@dataclass(frozen=True)
class Outcome:
    """``approval_id`` is set when the action waits for a second person;
    ``case_reference`` names the case the action was recorded on (a trace opens one when
    none was given)."""

    action: str
    approval_id: int | None
    case_reference: str | None

    @property
    def waiting(self) -> bool:
        return self.approval_id is not None


def _claim(
    db: Session, *, request: SupportRequest, customer: Customer, staff: StaffUser, reason: str
) -> SupportAction | None:
    """Reserve the form's key; returns the earlier action when the key was used."""
    query = select(SupportAction).where(SupportAction.key == request.key)
    earlier = db.scalar(query.execution_options(populate_existing=True))
    if earlier is None:
        try:
            with db.begin_nested():
                db.add(
                    SupportAction(
                        key=request.key,
                        action=request.action,
                        customer_id=customer.id,
                        staff_id=staff.id,
                        transaction_id=request.transaction_id,
                        reason=reason,
                        case_reference=request.case_reference,
                        outcome="claimed",
                        created_at=utcnow(),
                    )
                )
                db.flush()
            return None
        except IntegrityError:  # a concurrent twin of this form got in first
            earlier = db.scalar(query.execution_options(populate_existing=True))
            if earlier is None:
                raise
    if (earlier.action, earlier.customer_id, earlier.staff_id) != (
        request.action,
        customer.id,
        staff.id,
    ):
        raise IdempotencyConflict(
            "this form was used for another action", idempotency_key=request.key
        )
    return earlier


def _check_key(key: str) -> None:
    if not key or len(key) > 64 or not key.isascii() or not key.isprintable():
        raise InvalidInput("the form has no valid key; reload the page", field="key")


def perform(
    db: Session,
    wallet: WalletGateway,
    *,
    customer: Customer,
    staff: StaffUser,
    request: SupportRequest,
    settings: Settings,
    senders: Senders,
) -> Outcome:
    if request.action not in PERMISSION:
        raise InvalidInput(f"unknown action {request.action!r}", field="action")
    if not has_permission(staff.role, PERMISSION[request.action]):
        raise PermissionDenied(f"{request.action} needs {PERMISSION[request.action]}")
    _check_key(request.key)
    reason = service.clean_reason(request.reason)
    assert reason is not None
    if request.case_reference:
        case = cases_service.get_customer_case(
            db, customer_id=customer.id, reference=request.case_reference
        )
        request = replace(request, case_reference=case.reference)
    with db.begin_nested():  # a refused action leaves no claim, note or case behind
        return _run(db, wallet, customer, staff, request, reason, settings, senders)


def _run(
    db: Session,
    wallet: WalletGateway,
    customer: Customer,
    staff: StaffUser,
    request: SupportRequest,
    reason: str,
    settings: Settings,
    senders: Senders,
) -> Outcome:
    if earlier := _claim(db, request=request, customer=customer, staff=staff, reason=reason):
        return Outcome(earlier.action, earlier.approval_id, earlier.case_reference)
    work = _Work(db, wallet, customer, staff, request, reason, settings, senders)
    result = _HANDLERS[request.action](work)
    case_reference = result.case_reference or request.case_reference
    row = db.scalar(select(SupportAction).where(SupportAction.key == request.key))
    assert row is not None
    row.outcome = "pending" if result.approval is not None else "done"
    row.approval_id = result.approval.id if result.approval is not None else None
    row.case_reference = case_reference
    db.flush()
    return Outcome(request.action, row.approval_id, case_reference)


@dataclass(frozen=True)
class _Work:
    db: Session
    wallet: WalletGateway
    customer: Customer
    staff: StaffUser
    request: SupportRequest
    reason: str
    settings: Settings
    senders: Senders

    @property
    def account_id(self) -> str:
        return self.customer.wallet_account_id

    def transaction(self) -> TransactionView:
        """The customer's own transaction; another account's answers as unknown."""
        tid = (self.request.transaction_id or "").strip()
        if not tid:
            raise InvalidInput("choose a transaction", field="transaction_id")
        view = self.wallet.get_transaction(tid)
        if view.account_id != self.account_id:
            raise WalletNotFound("no such transaction", what="transaction", ref=tid)
        return view

    @property
    def money(self) -> support_money.Money:
        return support_money.Money(self.db, self.wallet, self.settings)

    @property
    def asked(self) -> support_money.Asked:
        return support_money.Asked(
            requester=Requester.of_staff(self.staff),
            key=self.request.key,
            reason=self.reason,
            customer_id=self.customer.id,
            case_reference=self.request.case_reference,
        )


@dataclass(frozen=True)
class _Result:
    """``approval`` when the action waits; ``case_reference`` names a case the action
    itself opened or found (a trace). The command noted what was done on the case."""

    approval: ApprovalRequest | None = None
    case_reference: str | None = None


def _unlock(w: _Work) -> _Result:
    account.unlock(w.money, w.asked, account_id=w.account_id)
    return _Result()


def _password_reset(w: _Work) -> _Result:
    account.start_password_reset(w.money, w.asked, account_id=w.account_id)
    return _Result()


def _freeze(w: _Work) -> _Result:
    account.freeze(w.money, w.asked, account_id=w.account_id, reason=w.request.freeze_reason or "")
    return _Result()


def _unfreeze(w: _Work) -> _Result:
    """Always four eyes: the person who asks is never the one who unfreezes."""
    return _Result(approval=account.request_unfreeze(w.money, w.asked, account_id=w.account_id))


def _refund(w: _Work) -> _Result:
    """A payment deducted although the order failed is reversed whole; a succeeded one is
    refunded (in part, if an amount is given). Both under the four-eyes rule of
    ``kefu.support.money``."""
    payment = w.transaction()
    if payment.kind != "payment":
        raise InvalidInput("only payments are refunded", field="transaction_id")
    if payment.status == "deducted_failed":
        reversed_ = support_money.reverse_payment(w.money, w.asked, payment_id=payment.id)
        return _Result(approval=reversed_.approval)
    refunded = support_money.refund(
        w.money, w.asked, payment_id=payment.id, amount=w.request.amount
    )
    return _Result(approval=refunded.approval)


def _dispute(w: _Work) -> _Result:
    payment = w.transaction()
    opened = support_money.open_dispute(w.money, w.asked, payment_id=payment.id)
    return _Result(approval=opened.approval)


def _tracing(kind: str) -> Callable[[_Work], _Result]:
    """The form that traces a movement of ``kind`` (the layer's ``trace`` checks that a
    transfer or withdrawal is an outgoing one)."""

    def run(w: _Work) -> _Result:
        moved = w.transaction()
        if moved.kind != kind:
            raise InvalidInput(f"this form traces a {kind}", field="transaction_id")
        reference = trace.trace(w.money, w.asked, transaction_id=moved.id, senders=w.senders)
        return _Result(case_reference=reference)

    return run


_HANDLERS = {
    "unlock": _unlock,
    "password_reset": _password_reset,
    "freeze": _freeze,
    "unfreeze": _unfreeze,
    "refund": _refund,
    "dispute": _dispute,
    "trace_topup": _tracing("topup"),
    "trace_transfer": _tracing("transfer"),
    "trace_withdrawal": _tracing("withdrawal"),
}
