"""Filing and deciding an approval request, and reading the queue, for every surface: the
console's approval queue, the staff API (``POST /api/v1/wallet/approvals/{id}/decision``,
and a waiting refund's or unfreeze's own decision route) decide through ``decide`` alone;
every command that waits for a supervisor files through ``file_request``, which writes the
request's audit row (``approval.requested``), tells everyone who may decide it and notes
the case, once, when the request is new.

``decide`` owns the whole decision: who may decide (``approval.decide`` and the action's
own permission, ``approvals.DECIDE_PERMISSION``), the four-eyes rules (the requester never
decides their own request; a decided request is not decided again, only the same
person's repeated click is answered with the decision already made, so a "no" stands),
the action that runs on approval (through the wallet port, under the key
``approval-<id>``, as the decider), the audit row and the case note (``support.notes``,
once per decision). ``kefu.approvals`` keeps only the queue's storage.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from sqlalchemy.orm import Session

from kefu import audit
from kefu.approvals import service as approvals
from kefu.approvals.errors import AlreadyApproved, AlreadyRejected, OwnRequest
from kefu.approvals.models import ApprovalRequest
from kefu.approvals.service import ApprovalRead
from kefu.errors import PermissionDenied
from kefu.i18n import normalise_lang, translate
from kefu.identity.models import StaffUser
from kefu.identity.permissions import has_permission
from kefu.notifications import service as notifications
from kefu.support import notes
from kefu.support.base import Asked, Money, command
from kefu.support.notes import Told
from kefu.wallet.port import ActionContext, WalletGateway

__all__ = ["ApprovalRead", "decide", "file_request", "of_customer", "recently_decided", "waiting"]


def file_request(
    m: Money,
    asked: Asked,
    *,
    action: str,
    wallet_account_id: str,
    target_id: str,
    amount: Decimal | None,
    customer_id: int | None,
    payment_id: str | None = None,
) -> ApprovalRequest:
    """File what ``asked`` (a staff member) asks for in the queue, under ``asked.key``
    with ``asked.reason``: stored once per key, or joining the request already waiting on
    the same target. A request filed now gets its audit row and the notification of
    everyone who may decide it but the requester; the case is noted once per key
    (``notes.filed``)."""
    staff = asked.requester.staff
    if staff is None:
        raise PermissionDenied("a request is filed by a person, never by self-service")
    filing = approvals.submit(
        m.db,
        key=asked.key,
        action=action,
        wallet_account_id=wallet_account_id,
        target_id=target_id,
        payment_id=payment_id,
        amount=amount,
        reason=asked.reason,
        requester=staff,
        customer_id=customer_id,
        case_reference=asked.case_reference,
    )
    request = filing.request
    if filing.new:
        audit.record(
            m.db,
            actor=asked.requester.actor,
            action="approval.requested",
            customer_id=request.customer_id,
            case_reference=request.case_reference,
            after={**approvals.summary(request), "reason": request.reason},
        )
        _tell_deciders(m.db, request, staff)
    notes.filed(m, asked, request)
    return request


def _tell_deciders(db: Session, request: ApprovalRequest, requester: StaffUser) -> None:
    for decider in notifications.holders_of(db, approvals.DECIDE_PERMISSION[request.action]):
        if decider.id != requester.id:
            notifications.notify_translated(
                db,
                decider,
                kind="approval",
                key="approval.waiting",
                link="/console/approvals",
                who=requester.display_name,
                what=translate(
                    f"support.action.{request.action}",
                    normalise_lang(decider.language) or "zh-CN",
                ),
                amount=request.amount or "",
            )


def _approve_refund(wallet: WalletGateway, request: ApprovalRequest, ctx: ActionContext) -> str:
    return wallet.decide_refund(request.target_id, approve=True, reason=None, ctx=ctx).id


def _reverse(wallet: WalletGateway, request: ApprovalRequest, ctx: ActionContext) -> str:
    return wallet.reverse_payment(request.target_id, ctx=ctx).id


def _unfreeze(wallet: WalletGateway, request: ApprovalRequest, ctx: ActionContext) -> str:
    return wallet.unfreeze(request.target_id, ctx=ctx).account_id


def _dispute(wallet: WalletGateway, request: ApprovalRequest, ctx: ActionContext) -> str:
    return wallet.open_dispute(request.target_id, reason=request.reason, ctx=ctx).id


# what runs when a request is approved, by its action
_RUN: dict[str, Callable[[WalletGateway, ApprovalRequest, ActionContext], str]] = {
    "refund": _approve_refund,
    "reverse_payment": _reverse,
    "unfreeze": _unfreeze,
    "dispute": _dispute,
}


def _held(wallet: WalletGateway, refund_id: str) -> bool:
    return wallet.get_refund(refund_id).status == "requested"


_DECIDED = {True: "approval.approved", False: "approval.rejected"}


@command
def decide(
    m: Money, asked: Asked, *, approval_id: int, approve: bool, reason: str | None
) -> ApprovalRequest:
    """Approve (the action runs now, as the decider; if the wallet refuses it, nothing
    changes and the request stays pending) or reject (a reason is required; a refund
    waiting in the wallet is rejected there too, so the customer hears why). ``asked``
    names the decider; its key and case are not used: a request is decided once, and
    its case is the one it was filed for."""
    staff = asked.requester.staff
    if staff is None:
        raise PermissionDenied("an approval is decided by a person, never by self-service")
    request = approvals.get(m.db, approval_id, for_update=True)
    # who may decide comes first: someone who may not is refused whatever the request's state
    for permission in ("approval.decide", approvals.DECIDE_PERMISSION[request.action]):
        asked.requester.require(m.db, permission, "decide_approval")
    decision_reason = approvals.clean_reason(reason, required=not approve)
    if request.status != approvals.PENDING:
        wanted = approvals.APPROVED if approve else approvals.REJECTED
        if request.status == wanted and request.decided_by_id == staff.id:
            return request  # the same person's repeated click: nothing runs, nothing is noted
        decided = AlreadyApproved if request.status == approvals.APPROVED else AlreadyRejected
        raise decided(f"approval {request.id} is {request.status}", status=request.status)
    if staff.id == request.requested_by_id:
        raise OwnRequest("the requester cannot decide their own request")
    ctx = ActionContext(
        key=f"approval-{request.id}",
        actor=asked.requester.actor,
        case_reference=request.case_reference,
        customer_id=request.customer_id,
        # the audit row of the action keeps why it was asked for and why it was approved
        reason=" / ".join(filter(None, (request.reason, decision_reason))),
    )
    result: str | None = None
    if approve:
        result = _RUN[request.action](m.wallet, request, ctx)
    elif (
        request.action == "refund" and m.wallet.get_refund(request.target_id).status == "requested"
    ):
        m.wallet.decide_refund(request.target_id, approve=False, reason=decision_reason, ctx=ctx)
    before = approvals.record_decision(
        m.db,
        request,
        approve=approve,
        decider=staff,
        reason=decision_reason,
        result_ref=result,
        now=m.at,
    )
    audit.record(
        m.db,
        actor=asked.requester.actor,
        action=_DECIDED[approve],
        customer_id=request.customer_id,
        case_reference=request.case_reference,
        before=before,
        after={
            **approvals.summary(request),
            "requested_by_id": request.requested_by_id,
            "reason": decision_reason,
            "result": result,
        },
    )
    told = Told(
        f"support.told.{request.action}" if approve else "support.told.rejected",
        what=request.action,
        amount=request.amount or "",
        reason=decision_reason or "",
    )
    decision = Asked(
        requester=asked.requester,
        key=f"approval-{request.id}:decision",
        reason=decision_reason or "",
        customer_id=request.customer_id,
        case_reference=request.case_reference,
    )
    notes.note(
        m,
        decision,
        action=_DECIDED[approve],
        account_id=request.wallet_account_id,
        told=told,
        approval=request.id,
        wallet_action=request.action,
    )
    return request


def waiting(db: Session, *, staff: StaffUser, limit: int = 100) -> list[ApprovalRead]:
    """The requests waiting for a decision, oldest first (the order customers have
    waited), for someone who may decide them; nothing for anyone else."""
    if not has_permission(staff.role, "approval.decide"):
        return []
    return approvals.pending(db, limit=limit)


def recently_decided(db: Session, *, staff: StaffUser, limit: int = 30) -> list[ApprovalRead]:
    """The latest decisions, newest first, for someone who may decide."""
    if not has_permission(staff.role, "approval.decide"):
        return []
    return approvals.recently_decided(db, limit=limit)


def of_customer(db: Session, *, customer_id: int, limit: int = 20) -> list[ApprovalRead]:
    """A customer's requests, newest first, whatever their state (the customer view)."""
    return approvals.of_customer(db, customer_id=customer_id, limit=limit)
