"""The approval queue's storage: filing, reading and recording the decision on a request.
Functions flush and never commit.

The wallet's own refund review is the model: a refund above the threshold is created in
``requested`` and waits for a decision. An approval request is that wait made visible, and
the same wait for the risky actions the wallet would otherwise do at once (unfreezing,
reversing a large payment, opening a large dispute). The support commands
(``kefu.support``) file requests whatever surface asks, and one support command decides
them (``kefu.support.approval.decide``: who may decide, the four-eyes rule, the action
run on approval, the audit row and the case note), and one files them
(``kefu.support.approval.file_request``: the audit row, the supervisors' notifications and
the case note); this module only keeps the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.approvals.errors import ApprovalNotFound, RejectedBefore
from kefu.approvals.models import ApprovalRequest
from kefu.db import utcnow
from kefu.errors import InvalidInput
from kefu.identity.models import StaffUser
from kefu.sensitive import mask
from kefu.wallet.errors import IdempotencyConflict

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
REASON_MAX = 200

# What each action needs of the person who approves it, besides ``approval.decide``.
DECIDE_PERMISSION: dict[str, str] = {
    "refund": "wallet.refund.decide_large",
    "reverse_payment": "wallet.refund.decide_large",
    "unfreeze": "wallet.unfreeze",
    "dispute": "wallet.dispute.decide",
}


def clean_reason(text: str | None, *, field: str = "reason", required: bool = True) -> str | None:
    """A person's reason for an action: one line, masked, at most 200 characters."""
    cleaned = mask(" ".join((text or "").split()))
    if not cleaned:
        if required:
            raise InvalidInput("give a reason", field=field)
        return None
    if len(cleaned) > REASON_MAX:
        raise InvalidInput(f"a reason is at most {REASON_MAX} characters", field=field)
    return cleaned


def needs_approval(amount: Decimal, threshold: Decimal) -> bool:
    """Money actions above ``KEFU_APPROVAL_AMOUNT_ABOVE`` wait for a second person."""
    return amount > threshold


def summary(request: ApprovalRequest) -> dict[str, Any]:
    return {
        "approval": request.id,
        "action": request.action,
        "target": request.target_id,
        "wallet_account_id": request.wallet_account_id,
        "amount": request.amount,
        "status": request.status,
    }


def by_key(db: Session, key: str) -> ApprovalRequest | None:
    """The request filed under an idempotency key, if any."""
    query = select(ApprovalRequest).where(ApprovalRequest.request_key == key)
    return db.scalar(query.execution_options(populate_existing=True))


def latest_for(db: Session, *, action: str, target_id: str) -> ApprovalRequest | None:
    """The newest request for an action on a target: the one waiting, if any."""
    return db.scalar(
        select(ApprovalRequest)
        .where(ApprovalRequest.action == action, ApprovalRequest.target_id == target_id)
        .order_by(ApprovalRequest.id.desc())
        .limit(1)
    )


def pending_for(db: Session, *, action: str, target_id: str) -> ApprovalRequest | None:
    return db.scalar(
        select(ApprovalRequest).where(
            ApprovalRequest.action == action,
            ApprovalRequest.target_id == target_id,
            ApprovalRequest.status == PENDING,
        )
    )


def rejected_on(
    db: Session, *, payment_id: str | None, action: str, target_id: str
) -> list[ApprovalRequest]:
    """Requests a supervisor rejected about the same money (any action on the payment) or,
    without a payment, about the same action on the same target (an account's unfreeze)."""
    if payment_id is not None:
        about = ApprovalRequest.payment_id == payment_id
    else:
        about = (ApprovalRequest.action == action) & (ApprovalRequest.target_id == target_id)
    query = select(ApprovalRequest).where(about, ApprovalRequest.status == REJECTED)
    return list(db.scalars(query.order_by(ApprovalRequest.id)))


def _facts(text: str) -> str:
    """A reason reduced to what it says: case, spaces and punctuation do not make it new."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def refuse_repeat(
    db: Session,
    *,
    requester_id: int,
    payment_id: str | None,
    action: str,
    target_id: str,
    reason: str,
) -> None:
    """A rejected request is not asked again by the same person with the same reason:
    once a supervisor has said no, only new facts justify asking again."""
    for earlier in rejected_on(db, payment_id=payment_id, action=action, target_id=target_id):
        if earlier.requested_by_id == requester_id and _facts(earlier.reason) == _facts(reason):
            raise RejectedBefore(
                f"approval {earlier.id} was rejected", reason=earlier.decision_reason or ""
            )


@dataclass(frozen=True)
class Filing:
    request: ApprovalRequest
    new: bool  # filed now; False when the key's own request or one already waiting answered


def submit(
    db: Session,
    *,
    key: str,
    action: str,
    wallet_account_id: str,
    target_id: str,
    amount: Decimal | None,
    reason: str,
    requester: StaffUser,
    customer_id: int | None,
    case_reference: str | None,
    payment_id: str | None = None,
) -> Filing:
    """Store a request, once per key; a second request for an action already waiting on
    the same target joins the first instead of queueing it twice. ``payment_id`` names
    the payment a money action is about. Only storage: the audit row, the notifications
    and the case note of a new request are the support layer's
    (``kefu.support.approval.file_request``)."""
    if action not in DECIDE_PERMISSION:
        raise InvalidInput(f"unknown action {action!r}", field="action")
    cleaned = clean_reason(reason)
    assert cleaned is not None
    if (existing := by_key(db, key)) is not None:
        if (existing.action, existing.target_id) != (action, target_id):
            raise IdempotencyConflict("this key filed another request", idempotency_key=key)
        return Filing(existing, new=False)
    if (waiting := pending_for(db, action=action, target_id=target_id)) is not None:
        return Filing(waiting, new=False)
    refuse_repeat(
        db,
        requester_id=requester.id,
        payment_id=payment_id,
        action=action,
        target_id=target_id,
        reason=cleaned,
    )
    request = ApprovalRequest(
        request_key=key,
        action=action,
        wallet_account_id=wallet_account_id,
        target_id=target_id,
        payment_id=payment_id,
        amount=f"{amount:.2f}" if amount is not None else None,
        reason=cleaned,
        customer_id=customer_id,
        case_reference=case_reference,
        status=PENDING,
        requested_by_id=requester.id,
        created_at=utcnow(),
    )
    try:
        with db.begin_nested():
            db.add(request)
            db.flush()
    except IntegrityError:  # the same key's concurrent twin got in first
        twin = by_key(db, key)
        if twin is None:
            raise
        return Filing(twin, new=False)
    return Filing(request, new=True)


def get(db: Session, approval_id: int, *, for_update: bool = False) -> ApprovalRequest:
    query = select(ApprovalRequest).where(ApprovalRequest.id == approval_id)
    if for_update:
        query = query.with_for_update()
    request = db.scalar(query.execution_options(populate_existing=True))
    if request is None:
        raise ApprovalNotFound(f"no approval request {approval_id}")
    return request


def record_decision(
    db: Session,
    request: ApprovalRequest,
    *,
    approve: bool,
    decider: StaffUser,
    reason: str | None,
    result_ref: str | None,
    now: datetime,
) -> dict[str, Any]:
    """Store a decision on a pending request (``kefu.support.approval.decide`` checks who
    may decide and runs the action); returns the request as it was before, for the audit
    row."""
    before = summary(request)
    request.status = APPROVED if approve else REJECTED
    request.decided_by_id = decider.id
    request.decided_at = now
    request.decision_reason = reason
    request.result_ref = result_ref
    db.flush()
    return before


@dataclass(frozen=True)
class ApprovalRead:
    """A request as the queue and the customer view show it, with people's names."""

    request: ApprovalRequest
    requested_by: str
    decided_by: str | None


def _with_names(db: Session, rows: list[ApprovalRequest]) -> list[ApprovalRead]:
    ids = {r.requested_by_id for r in rows} | {r.decided_by_id for r in rows if r.decided_by_id}
    names = {
        staff.id: staff.display_name
        for staff in db.scalars(select(StaffUser).where(StaffUser.id.in_(ids)))
    }
    return [
        ApprovalRead(
            request=row,
            requested_by=names.get(row.requested_by_id, "?"),
            decided_by=names.get(row.decided_by_id) if row.decided_by_id else None,
        )
        for row in rows
    ]


def pending(db: Session, *, limit: int = 100) -> list[ApprovalRead]:
    """Oldest first: the queue is worked in the order customers have waited."""
    rows = db.scalars(
        select(ApprovalRequest)
        .where(ApprovalRequest.status == PENDING)
        .order_by(ApprovalRequest.created_at, ApprovalRequest.id)
        .limit(limit)
    ).all()
    return _with_names(db, list(rows))


def recently_decided(db: Session, *, limit: int = 30) -> list[ApprovalRead]:
    rows = db.scalars(
        select(ApprovalRequest)
        .where(ApprovalRequest.status != PENDING)
        .order_by(ApprovalRequest.decided_at.desc(), ApprovalRequest.id.desc())
        .limit(limit)
    ).all()
    return _with_names(db, list(rows))


def of_customer(db: Session, *, customer_id: int, limit: int = 20) -> list[ApprovalRead]:
    rows = db.scalars(
        select(ApprovalRequest)
        .where(ApprovalRequest.customer_id == customer_id)
        .order_by(ApprovalRequest.created_at.desc(), ApprovalRequest.id.desc())
        .limit(limit)
    ).all()
    return _with_names(db, list(rows))
