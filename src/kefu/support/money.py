"""Commands that move a customer's money: refund a payment, reverse a payment deducted but
failed, open a dispute, decide a dispute, decide a refund the core holds for review.

Each runs at once only when one person's word is enough (``_alone``): the core does not
ask for a supervisor, nothing on the payment was rejected before, and the amount fits in
what may move without a supervisor on the payment and on the customer's day
(``kefu.support.foureyes``). Otherwise a staff member's action becomes an approval
request (filed in ``kefu.approvals``, decided by ``kefu.support.approval``) and a
customer's is refused: self-service never files one. The account's four-eyes count is
locked first, before the wallet locks anything, so every money command takes its locks in
the same order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from kefu.approvals import service as approvals
from kefu.approvals.models import ApprovalRequest
from kefu.errors import InvalidInput, PermissionDenied
from kefu.support import approval, foureyes, notes
from kefu.support.base import Asked as Asked
from kefu.support.base import Contact as Contact
from kefu.support.base import Money as Money
from kefu.support.base import command as command
from kefu.support.notes import Told
from kefu.wallet.errors import IllegalTransition
from kefu.wallet.schemas import DisputeView, RefundView, TransactionView

View = TypeVar("View")


class NeedsSupervisor(PermissionDenied):
    """Self-service asked for money a supervisor has to decide; a person takes it over."""

    code = "approval_needed"
    message_key = "error.approval.needed"


@dataclass(frozen=True)
class Done(Generic[View]):
    """What the wallet now says, and the approval request when the action waits."""

    view: View
    approval: ApprovalRequest | None = None

    @property
    def waiting(self) -> bool:
        return self.approval is not None


def _alone(m: Money, asked: Asked, move: foureyes.Move, *, core_review: bool = False) -> bool:
    """Whether ``move`` may run on the requester's word (locks the account's count)."""
    if core_review or m.above_limit(move.amount):
        return False
    if approvals.rejected_on(
        m.db, payment_id=move.payment_id, action=move.action, target_id=move.target_id
    ):
        return False  # a supervisor said no on this payment: the next word is theirs too
    return foureyes.fits(m.db, move, settings=m.settings, now=m.at)


def _count(m: Money, asked: Asked, move: foureyes.Move, suffix: str = "") -> None:
    foureyes.count(
        m.db,
        move,
        key=f"{asked.key}{suffix}",
        actor=asked.requester.actor,
        settings=m.settings,
        now=m.at,
    )


def _file(
    m: Money, asked: Asked, *, action: str, move: foureyes.Move, key: str | None = None
) -> ApprovalRequest:
    staff = asked.requester.staff
    if staff is None:
        raise NeedsSupervisor(f"{action} of {move.amount:.2f} needs a supervisor")
    return approval.file_request(
        m,
        replace(asked, key=key or asked.key),
        action=action,
        wallet_account_id=move.account_id,
        target_id=move.target_id,
        payment_id=move.payment_id,
        amount=move.amount,
        customer_id=asked.customer_id,
    )


def _refuse_repeat(m: Money, asked: Asked, *, payment_id: str, action: str) -> None:
    """Checked before the wallet is touched, so a refused repeat leaves nothing behind."""
    if asked.requester.staff is not None:
        approvals.refuse_repeat(
            m.db,
            requester_id=asked.requester.staff.id,
            payment_id=payment_id,
            action=action,
            target_id=payment_id,
            reason=asked.reason,
        )


def _payment(m: Money, payment_id: str) -> TransactionView:
    payment = m.wallet.get_transaction(payment_id)
    if payment.kind != "payment":
        raise InvalidInput("only payments are refunded or disputed", field="transaction_id")
    return payment


@command
def refund(m: Money, asked: Asked, *, payment_id: str, amount: str | None) -> Done[RefundView]:
    """Refund a succeeded payment, whole or in part: approved at once, or left in the
    core's ``requested`` state (the money is reserved) while a supervisor decides."""
    asked.requester.require(m.db, "wallet.act", "refund")
    payment = _payment(m, payment_id)
    foureyes.lock_account(m.db, payment.account_id)
    _refuse_repeat(m, asked, payment_id=payment.id, action="refund")
    wanted = (amount or "").strip() or f"{payment.amount:.2f}"
    view = m.wallet.create_refund(payment.id, amount=wanted, reason=asked.reason, ctx=asked.ctx())
    if view.status != "requested":  # a replay of a refund already decided
        return Done(view)
    if (waiting := approvals.pending_for(m.db, action="refund", target_id=view.id)) is not None:
        return Done(view, waiting)
    move = foureyes.Move("refund", view.account_id, payment.id, view.id, view.amount)
    if not _alone(m, asked, move, core_review=view.needs_supervisor):
        return Done(view, _file(m, asked, action="refund", move=move))
    decided = m.wallet.decide_refund(view.id, approve=True, reason=None, ctx=asked.ctx(":decide"))
    _count(m, asked, move)
    told = Told("support.told.refund", amount=f"{decided.amount:.2f}")
    notes.note(
        m,
        asked,
        action="wallet.refund",
        account_id=move.account_id,
        told=told,
        transaction=payment.id,
    )
    return Done(decided)


@command
def reverse_payment(m: Money, asked: Asked, *, payment_id: str) -> Done[TransactionView]:
    """Return a payment deducted although the order failed, whole."""
    asked.requester.require(m.db, "wallet.act", "reverse")
    payment = _payment(m, payment_id)
    foureyes.lock_account(m.db, payment.account_id)
    move = foureyes.Move(
        "reverse_payment", payment.account_id, payment.id, payment.id, payment.amount
    )
    waiting = approvals.pending_for(m.db, action="reverse_payment", target_id=payment.id)
    if waiting is not None:
        return Done(payment, waiting)
    _refuse_repeat(m, asked, payment_id=payment.id, action="reverse_payment")
    if payment.status == "deducted_failed" and not _alone(m, asked, move):
        return Done(payment, _file(m, asked, action="reverse_payment", move=move))
    view = m.wallet.reverse_payment(payment.id, ctx=asked.ctx())
    _count(m, asked, move)
    told = Told("support.told.reverse_payment", amount=f"{payment.amount:.2f}")
    notes.note(
        m,
        asked,
        action="wallet.reverse_payment",
        account_id=move.account_id,
        told=told,
        transaction=payment.id,
    )
    return Done(view)


@command
def open_dispute(m: Money, asked: Asked, *, payment_id: str) -> Done[DisputeView | None]:
    """Open a dispute on a succeeded payment. Staff wait for a supervisor above the limit
    or after a rejection on the payment; a customer disputes their own payment at once.
    No money moves until the dispute is decided (``decide_dispute``)."""
    asked.requester.require(m.db, "wallet.act", "dispute")
    payment = m.wallet.get_transaction(payment_id)
    if payment.kind != "payment" or payment.status != "succeeded":
        raise IllegalTransition(
            "only a succeeded payment is disputed",
            subject=payment.kind,
            current=payment.status,
            target="dispute",
        )
    move = foureyes.Move("dispute", payment.account_id, payment.id, payment.id, payment.amount)
    if asked.requester.staff is not None:
        _refuse_repeat(m, asked, payment_id=payment.id, action="dispute")
        rejected = approvals.rejected_on(
            m.db, payment_id=payment.id, action="dispute", target_id=payment.id
        )
        if m.above_limit(payment.amount) or rejected:
            return Done(None, _file(m, asked, action="dispute", move=move))
    opened = m.wallet.open_dispute(payment.id, reason=asked.reason, ctx=asked.ctx())
    told = Told("support.told.dispute", amount=f"{payment.amount:.2f}")
    notes.note(
        m,
        asked,
        action="wallet.dispute",
        account_id=move.account_id,
        told=told,
        transaction=payment.id,
    )
    return Done(opened)


@command
def decide_dispute(m: Money, asked: Asked, *, dispute_id: str, outcome: str) -> Done[DisputeView]:
    """Move a dispute on. Upheld, the core opens a refund of what is left of the payment
    in ``requested``; it is approved at once when a supervisor decided the dispute or
    the amount fits what a non-supervisor may move, and otherwise waits for one."""
    asked.requester.require(m.db, "wallet.dispute.decide", "decide_dispute")
    before = m.wallet.get_dispute(dispute_id)
    foureyes.lock_account(m.db, before.account_id)
    view = m.wallet.decide_dispute(
        dispute_id, outcome=outcome, reason=asked.reason or None, ctx=asked.ctx()
    )
    notes.note(
        m, asked, action="wallet.dispute_decide", account_id=view.account_id, outcome=outcome
    )
    if view.refund_id is None:
        return Done(view)
    held = m.wallet.get_refund(view.refund_id)
    if held.status != "requested":
        return Done(view)
    if (waiting := approvals.pending_for(m.db, action="refund", target_id=held.id)) is not None:
        return Done(view, waiting)
    move = foureyes.Move(
        "dispute_refund", held.account_id, held.transaction_id, held.id, held.amount
    )
    if asked.requester.supervisor:
        m.wallet.decide_refund(held.id, approve=True, reason=None, ctx=asked.ctx(":refund"))
        return Done(m.wallet.get_dispute(dispute_id))
    if not _alone(m, asked, move):
        why = replace(asked, reason=asked.reason or held.reason)
        return Done(view, _file(m, why, action="refund", move=move, key=f"{asked.key}:refund"))
    m.wallet.decide_refund(held.id, approve=True, reason=None, ctx=asked.ctx(":refund"))
    _count(m, asked, move, ":refund")
    return Done(view)


@command
def decide_refund(
    m: Money, asked: Asked, *, refund_id: str, approve: bool, reason: str | None
) -> Done[RefundView]:
    """Decide a refund the core holds in ``requested``. One filed in the approval queue is
    decided there (never by its requester, only by who may decide it, and once: a decided
    one is answered as decided); a supervisor decides any other; a non-supervisor's
    approval counts against what they may move alone, and beyond it the refund joins the
    queue instead."""
    asked.requester.require(m.db, "wallet.refund.decide", "decide_refund")
    staff = asked.requester.staff
    queued = approvals.latest_for(m.db, action="refund", target_id=refund_id)
    if queued is not None and staff is not None:
        decided = approval.decide(m, asked, approval_id=queued.id, approve=approve, reason=reason)
        return Done(m.wallet.get_refund(refund_id), decided)
    view = m.wallet.get_refund(refund_id)
    foureyes.lock_account(m.db, view.account_id)
    if not approve or asked.requester.supervisor:
        by_word = m.wallet.decide_refund(refund_id, approve=approve, reason=reason, ctx=asked.ctx())
        _note_decided(m, asked, by_word, approve)
        return Done(by_word)
    move = foureyes.Move("refund", view.account_id, view.transaction_id, view.id, view.amount)
    if view.status == "requested" and not _alone(m, asked, move, core_review=view.needs_supervisor):
        why = replace(asked, reason=reason or view.reason or asked.reason)
        return Done(view, _file(m, why, action="refund", move=move))
    decided_view = m.wallet.decide_refund(refund_id, approve=True, reason=None, ctx=asked.ctx())
    _count(m, asked, move)
    _note_decided(m, asked, decided_view, approve)
    return Done(decided_view)


def _note_decided(m: Money, asked: Asked, view: RefundView, approve: bool) -> None:
    notes.note(
        m,
        asked,
        action="wallet.refund_decide",
        account_id=view.account_id,
        refund=view.id,
        approved=approve,
    )
