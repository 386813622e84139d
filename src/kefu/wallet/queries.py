"""Read-side look-ups support needs: transactions by time, amount, counterparty and kind,
top-ups by amount, time and card, logins, refunds and disputes, today's limit usage."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from kefu.db import utcnow
from kefu.wallet import ledger
from kefu.wallet.models import (
    BankCard,
    Dispute,
    LoginEvent,
    Movement,
    Refund,
    StateChange,
    WalletAccount,
)

_COUNTING = sorted(
    {
        status
        for kind in ledger.MOVEMENT_KINDS
        for targets in ledger.TRANSITIONS[kind].values()
        for status in targets
        if ledger.counts_towards_limit(status)
    }
)


def used_today_fen(db: Session, account_id: str, limit_kind: str) -> int:
    kinds = [k for k, v in ledger.LIMIT_KIND_OF_MOVEMENT.items() if v == limit_kind]
    used = db.scalar(
        select(func.coalesce(func.sum(Movement.amount_fen), 0)).where(
            Movement.account_id == account_id,
            Movement.kind.in_(kinds),
            Movement.status.in_(_COUNTING),
            Movement.created_at >= ledger.business_day_start(utcnow()),
        )
    )
    return int(used or 0)


def list_transactions(
    db: Session,
    account_id: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    min_amount_fen: int | None = None,
    max_amount_fen: int | None = None,
    counterparty: str | None = None,
    kind: str | None = None,
    limit: int = 50,
) -> list[tuple[Movement, str]]:
    """Newest first, with the other side's name as the customer sees it: for a transfer
    received, the payer."""
    payer = aliased(WalletAccount)
    query = (
        select(Movement, payer.name)
        .join(payer, payer.id == Movement.account_id)
        .where(
            or_(Movement.account_id == account_id, Movement.counterparty_account_id == account_id)
        )
        .order_by(Movement.created_at.desc(), Movement.id.desc())
        .limit(limit)
    )
    if since is not None:
        query = query.where(Movement.created_at >= since)
    if until is not None:
        query = query.where(Movement.created_at < until)
    if min_amount_fen is not None:
        query = query.where(Movement.amount_fen >= min_amount_fen)
    if max_amount_fen is not None:
        query = query.where(Movement.amount_fen <= max_amount_fen)
    if kind is not None:
        query = query.where(Movement.kind == kind)
    if counterparty:
        pattern = f"%{counterparty}%"
        query = query.where(
            or_(
                (Movement.account_id == account_id) & Movement.counterparty.ilike(pattern),
                (Movement.counterparty_account_id == account_id) & payer.name.ilike(pattern),
            )
        )
    rows = db.execute(query).all()
    return [
        (movement, movement.counterparty if movement.account_id == account_id else name)
        for movement, name in rows
    ]


def find_top_ups(
    db: Session,
    account_id: str,
    *,
    amount_fen: int | None = None,
    around: datetime | None = None,
    card_last4: str | None = None,
    window: timedelta = timedelta(days=1),
) -> list[Movement]:
    """The customer says "I topped up 500 yesterday evening from my card ending 1234"."""
    query = (
        select(Movement)
        .where(Movement.account_id == account_id, Movement.kind == "topup")
        .order_by(Movement.created_at.desc())
        .limit(20)
    )
    if amount_fen is not None:
        query = query.where(Movement.amount_fen == amount_fen)
    if around is not None:
        query = query.where(Movement.created_at.between(around - window, around + window))
    if card_last4 is not None:
        query = query.join(BankCard, BankCard.id == Movement.card_id).where(
            BankCard.last4 == card_last4
        )
    return list(db.scalars(query))


def history(db: Session, movement_ids: Sequence[int]) -> dict[int, list[StateChange]]:
    found: dict[int, list[StateChange]] = defaultdict(list)
    if movement_ids:
        for change in db.scalars(
            select(StateChange)
            .where(StateChange.movement_id.in_(movement_ids))
            .order_by(StateChange.id)
        ):
            assert change.movement_id is not None
            found[change.movement_id].append(change)
    return found


def card_last4(db: Session, card_ids: Sequence[int]) -> dict[int, str]:
    if not card_ids:
        return {}
    query = select(BankCard.id, BankCard.last4).where(BankCard.id.in_(card_ids))
    return dict(db.execute(query).all())


def login_events(db: Session, account_id: str, *, limit: int = 20) -> list[LoginEvent]:
    return list(
        db.scalars(
            select(LoginEvent)
            .where(LoginEvent.account_id == account_id)
            .order_by(LoginEvent.at.desc(), LoginEvent.id.desc())
            .limit(limit)
        )
    )


def refunds_of(db: Session, account_id: str) -> list[Refund]:
    return list(
        db.scalars(select(Refund).where(Refund.account_id == account_id).order_by(Refund.id.desc()))
    )


def disputes_of(db: Session, account_id: str) -> list[Dispute]:
    return list(
        db.scalars(
            select(Dispute).where(Dispute.account_id == account_id).order_by(Dispute.id.desc())
        )
    )
