"""Four eyes that cannot be split around.

What one person moves on their own word (a refund or a reversal run at once, a refund a
non-supervisor approves, the refund of a dispute a non-supervisor upholds) is counted per
payment and per customer per business day. When the new amount would take either count
above ``KEFU_APPROVAL_AMOUNT_ABOVE``, the action waits for a supervisor instead: four
refunds of 499.00 on one payment are the 1,996.00 they add up to, not four small ones.

The count is read and written while the account's ``four_eyes_lock`` row is locked, so
two people acting on the same account at the same moment are counted one after the other
(SQLite serialises writers anyway with ``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu import audit
from kefu.config import Settings
from kefu.support.models import FourEyesLock, SoleDecision


@dataclass(frozen=True)
class Move:
    """Money an action would move: ``target_id`` is the refund, or the payment reversed."""

    action: str  # refund | reverse_payment | dispute_refund
    account_id: str
    payment_id: str
    target_id: str
    amount: Decimal


def to_fen(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def business_day(now: datetime, settings: Settings) -> date:
    return now.astimezone(settings.tz).date()


def lock_account(db: Session, account_id: str) -> None:
    """Hold the account's count until the transaction ends."""
    query = (
        select(FourEyesLock).where(FourEyesLock.wallet_account_id == account_id).with_for_update()
    )
    if db.scalar(query) is not None:
        return
    try:
        with db.begin_nested():
            db.add(FourEyesLock(wallet_account_id=account_id))
            db.flush()
    except IntegrityError:  # another transaction made the row first; wait for it
        db.scalar(query)


@dataclass(frozen=True)
class Counts:
    """Fen moved on one person's word: on the payment (ever) and on the account today."""

    payment_fen: int
    day_fen: int


def counts(db: Session, *, account_id: str, payment_id: str, day: date) -> Counts:
    total = func.coalesce(func.sum(SoleDecision.amount_fen), 0)
    on_payment = db.scalar(select(total).where(SoleDecision.payment_id == payment_id))
    on_day = db.scalar(
        select(total).where(
            SoleDecision.wallet_account_id == account_id, SoleDecision.business_day == day
        )
    )
    return Counts(payment_fen=int(on_payment or 0), day_fen=int(on_day or 0))


def fits(db: Session, move: Move, *, settings: Settings, now: datetime) -> bool:
    """Whether ``move`` may run on one person's word; locks the account's count, so call
    it in the transaction that then moves the money and ``count``s it."""
    lock_account(db, move.account_id)
    limit_fen = to_fen(settings.approval_amount_above)
    amount_fen = to_fen(move.amount)
    done = counts(
        db,
        account_id=move.account_id,
        payment_id=move.payment_id,
        day=business_day(now, settings),
    )
    return max(done.payment_fen, done.day_fen) + amount_fen <= limit_fen


def count(
    db: Session,
    move: Move,
    *,
    key: str,
    actor: audit.Actor,
    settings: Settings,
    now: datetime,
) -> None:
    """Record a move that ran on one person's word, once per action key."""
    if db.scalar(select(SoleDecision.id).where(SoleDecision.key == key)) is not None:
        return
    db.add(
        SoleDecision(
            key=key,
            action=move.action,
            wallet_account_id=move.account_id,
            payment_id=move.payment_id,
            target_id=move.target_id,
            amount_fen=to_fen(move.amount),
            actor=actor.name,
            actor_role=actor.role,
            business_day=business_day(now, settings),
            created_at=now,
        )
    )
    db.flush()
