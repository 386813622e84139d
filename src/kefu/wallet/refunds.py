"""Refunds of payments and disputes on them.

A refund is approved out of merchant settlement into refunds payable, then paid to the
customer; an upheld dispute opens a requested refund for what is left of the payment.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.db import utcnow
from kefu.errors import Conflict, InvalidInput
from kefu.wallet import ledger, repo
from kefu.wallet.errors import IllegalTransition, InvalidAmount
from kefu.wallet.idempotency import ActionContext, claim
from kefu.wallet.models import Dispute, Refund


def _refund_view(refund: Refund) -> dict[str, Any]:
    return {
        "refund": refund.id,
        "transaction": refund.payment_id,
        "status": refund.status,
        "amount": ledger.format_fen(refund.amount_fen),
        "wallet_account_id": refund.account_id,
    }


def refundable_fen(db: Session, payment_id: int) -> int:
    """The payment's amount less every refund not rejected."""
    payment = repo.get_movement(db, payment_id)
    taken = db.scalar(
        select(func.coalesce(func.sum(Refund.amount_fen), 0)).where(
            Refund.payment_id == payment_id, Refund.status != "rejected"
        )
    )
    return payment.amount_fen - int(taken or 0)


def _new_refund(db: Session, *, payment_id: int, amount_fen: int, reason: str) -> Refund:
    payment = repo.get_movement(db, payment_id, fresh=True)
    if payment.kind != "payment" or payment.status != "succeeded":
        raise IllegalTransition(
            "only a succeeded payment is refunded",
            subject=payment.kind,
            current=payment.status,
            target="refund",
        )
    left = refundable_fen(db, payment_id)
    if amount_fen > left:
        raise InvalidAmount(
            "more than is left to refund on this payment", amount=ledger.format_fen(amount_fen)
        )
    now = utcnow()
    refund = Refund(
        payment_id=payment_id,
        account_id=payment.account_id,
        amount_fen=amount_fen,
        status="requested",
        reason=reason,
        created_at=now,
        updated_at=now,
    )
    db.add(refund)
    db.flush()
    repo.change_state(db, "refund", None, "requested", at=now, refund_id=refund.id)
    return refund


def _advance_refund(
    db: Session, refund: Refund, target: str, reason: str | None, accounts: dict[str, Any]
) -> None:
    now = utcnow()
    repo.change_state(
        db, "refund", refund.status, target, at=now, reason=reason, refund_id=refund.id
    )
    lines = ledger.movement_lines(
        "refund", refund.status, target, account=refund.account_id, amount_fen=refund.amount_fen
    )
    repo.post(db, lines, accounts, memo=f"refund:{target}", at=now, refund_id=refund.id)
    refund.status, refund.updated_at = target, now
    if reason is not None:
        refund.decision_reason = reason


def create_refund(
    db: Session, *, payment_id: int, amount_fen: int, reason: str, ctx: ActionContext
) -> Refund:
    with db.begin_nested():
        args = {"payment": payment_id, "amount": amount_fen, "reason": reason}
        if (ref := claim(db, ctx, "wallet.refund.create", args)) is not None:
            return repo.get_refund(db, int(ref))
        payment = repo.get_movement(db, payment_id)
        repo.lock_accounts(db, [payment.account_id])
        refund = _new_refund(db, payment_id=payment_id, amount_fen=amount_fen, reason=reason)
        repo.finish(
            db,
            ctx,
            refund.id,
            action="wallet.refund.create",
            before=None,
            after=_refund_view(refund),
        )
        return refund


def decide_refund(
    db: Session, *, refund_id: int, approve: bool, reason: str | None, ctx: ActionContext
) -> Refund:
    """Approve (money leaves merchant settlement) or reject with a reason the customer is
    told. Whether the decider may decide this amount is the caller's check."""
    if not approve and not reason:
        raise InvalidInput("a rejection needs a reason", field="reason")
    with db.begin_nested():
        args = {"refund": refund_id, "approve": approve, "reason": reason}
        if (ref := claim(db, ctx, "wallet.refund.decide", args)) is not None:
            return repo.get_refund(db, int(ref))
        refund = repo.get_refund(db, refund_id)
        accounts = repo.lock_accounts(db, [refund.account_id])
        refund = repo.get_refund(db, refund_id, fresh=True)
        before = _refund_view(refund)
        _advance_refund(db, refund, "approved" if approve else "rejected", reason, accounts)
        repo.finish(
            db,
            ctx,
            refund.id,
            action="wallet.refund.decide",
            before=before,
            after={**_refund_view(refund), "reason": reason},
        )
        return refund


def pay_refund(db: Session, *, refund_id: int, ctx: ActionContext) -> Refund:
    """The core pays an approved refund into the wallet (its daily refund run)."""
    with db.begin_nested():
        if (ref := claim(db, ctx, "refund.pay", {"refund": refund_id})) is not None:
            return repo.get_refund(db, int(ref))
        refund = repo.get_refund(db, refund_id)
        accounts = repo.lock_accounts(db, [refund.account_id])
        refund = repo.get_refund(db, refund_id, fresh=True)
        _advance_refund(db, refund, "paid", None, accounts)
        repo.finish(db, ctx, refund.id)
        return refund


def _dispute_view(dispute: Dispute) -> dict[str, Any]:
    return {
        "dispute": dispute.id,
        "transaction": dispute.movement_id,
        "status": dispute.status,
        "wallet_account_id": dispute.account_id,
        "refund": dispute.refund_id,
    }


def open_dispute(db: Session, *, movement_id: int, reason: str, ctx: ActionContext) -> Dispute:
    """A customer disputes a payment (e.g. one they did not make); one open dispute each."""
    with db.begin_nested():
        args = {"movement": movement_id, "reason": reason}
        if (ref := claim(db, ctx, "wallet.dispute.open", args)) is not None:
            return repo.get_dispute(db, int(ref))
        movement = repo.get_movement(db, movement_id)
        repo.lock_accounts(db, [movement.account_id])
        if movement.kind != "payment" or movement.status != "succeeded":
            raise IllegalTransition(
                "only a succeeded payment is disputed",
                subject=movement.kind,
                current=movement.status,
                target="dispute",
            )
        open_one = db.scalar(
            select(Dispute.id).where(
                Dispute.movement_id == movement_id, Dispute.status.in_(("opened", "investigating"))
            )
        )
        if open_one is not None:
            raise Conflict("this transaction already has an open dispute", dispute=open_one)
        now = utcnow()
        dispute = Dispute(
            movement_id=movement_id,
            account_id=movement.account_id,
            status="opened",
            reason=reason,
            created_at=now,
            updated_at=now,
        )
        db.add(dispute)
        db.flush()
        repo.change_state(db, "dispute", None, "opened", at=now, dispute_id=dispute.id)
        repo.finish(
            db,
            ctx,
            dispute.id,
            action="wallet.dispute.open",
            before=None,
            after=_dispute_view(dispute),
        )
        return dispute


def decide_dispute(
    db: Session, *, dispute_id: int, outcome: str, reason: str | None, ctx: ActionContext
) -> Dispute:
    """Investigating, then upheld or declined. Upheld opens a refund of what is left of the
    payment in ``requested``: who may approve it is the caller's four-eyes rule, as for any
    refund (``kefu.support.money.decide_dispute``)."""
    with db.begin_nested():
        args = {"dispute": dispute_id, "outcome": outcome, "reason": reason}
        if (ref := claim(db, ctx, "wallet.dispute.decide", args)) is not None:
            return repo.get_dispute(db, int(ref))
        dispute = repo.get_dispute(db, dispute_id)
        repo.lock_accounts(db, [dispute.account_id])
        dispute = repo.get_dispute(db, dispute_id, fresh=True)
        before = _dispute_view(dispute)
        now = utcnow()
        repo.change_state(
            db, "dispute", dispute.status, outcome, at=now, reason=None, dispute_id=dispute.id
        )
        if outcome == "upheld":
            left = refundable_fen(db, dispute.movement_id)
            if left > 0:
                refund = _new_refund(
                    db,
                    payment_id=dispute.movement_id,
                    amount_fen=left,
                    reason=f"dispute {dispute.id} upheld",
                )
                dispute.refund_id = refund.id
        dispute.status, dispute.decision_reason, dispute.updated_at = outcome, reason, now
        repo.finish(
            db,
            ctx,
            dispute.id,
            action="wallet.dispute.decide",
            before=before,
            after={**_dispute_view(dispute), "reason": reason},
        )
        return dispute
