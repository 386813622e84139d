"""Loading, locking and posting shared by the wallet's services.

Locks are taken on ``wallet_account`` rows only, always in account-id order, so two
operations touching the same customers queue instead of deadlocking. House accounts carry
no cached balance, so they are never locked and never become a hot row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from kefu import audit
from kefu.wallet import ledger
from kefu.wallet.errors import AccountNotActive, InsufficientFunds, WalletNotFound
from kefu.wallet.idempotency import ActionContext, complete
from kefu.wallet.models import (
    Dispute,
    JournalEntry,
    JournalTransaction,
    Movement,
    Refund,
    StateChange,
    WalletAccount,
)


def get_account(db: Session, account_id: str) -> WalletAccount:
    account = db.get(WalletAccount, account_id)
    if account is None:
        raise WalletNotFound("no such wallet account", what="account", ref=account_id)
    return account


def get_movement(db: Session, movement_id: int, *, fresh: bool = False) -> Movement:
    movement = db.get(Movement, movement_id, populate_existing=fresh)
    if movement is None:
        raise WalletNotFound("no such transaction", what="transaction", ref=str(movement_id))
    return movement


def get_refund(db: Session, refund_id: int, *, fresh: bool = False) -> Refund:
    refund = db.get(Refund, refund_id, populate_existing=fresh)
    if refund is None:
        raise WalletNotFound("no such refund", what="refund", ref=str(refund_id))
    return refund


def get_dispute(db: Session, dispute_id: int, *, fresh: bool = False) -> Dispute:
    dispute = db.get(Dispute, dispute_id, populate_existing=fresh)
    if dispute is None:
        raise WalletNotFound("no such dispute", what="dispute", ref=str(dispute_id))
    return dispute


def lock_accounts(db: Session, account_ids: Iterable[str]) -> dict[str, WalletAccount]:
    """``SELECT … FOR UPDATE`` in id order (SQLite already holds the write lock), and
    re-read, so a balance cached in this session is never stale."""
    wanted = sorted(set(account_ids))
    rows = db.scalars(
        select(WalletAccount)
        .where(WalletAccount.id.in_(wanted))
        .order_by(WalletAccount.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    found = {row.id: row for row in rows}
    for account_id in wanted:
        if account_id not in found:
            raise WalletNotFound("no such wallet account", what="account", ref=account_id)
    return found


def require_active(account: WalletAccount) -> None:
    if account.status != "active":
        raise AccountNotActive(
            f"account is {account.status}", account=account.id, status=account.status
        )


def post(
    db: Session,
    lines: list[ledger.Line],
    accounts: dict[str, WalletAccount],
    *,
    memo: str,
    at: datetime,
    movement_id: int | None = None,
    refund_id: int | None = None,
) -> None:
    """Write one balanced journal and move the locked customers' cached balances."""
    if not lines:
        return
    ledger.balanced(lines)
    for line in lines:
        if line.account in ledger.HOUSE_ACCOUNTS:
            continue
        account = accounts[line.account]
        if account.balance_fen + line.amount_fen < 0:
            raise InsufficientFunds(
                "not enough money in the wallet",
                balance=ledger.format_fen(account.balance_fen),
                amount=ledger.format_fen(-line.amount_fen),
            )
        account.balance_fen += line.amount_fen
    journal_id = db.scalar(
        insert(JournalTransaction)
        .values(movement_id=movement_id, refund_id=refund_id, memo=memo, created_at=at)
        .returning(JournalTransaction.id)
    )
    db.execute(
        insert(JournalEntry),
        [
            {
                "journal_id": journal_id,
                "ledger_account": line.account,
                "amount_fen": line.amount_fen,
            }
            for line in lines
        ],
    )


def change_state(
    db: Session,
    subject: str,
    current: str | None,
    target: str,
    *,
    at: datetime,
    reason: str | None = None,
    **subject_id: Any,
) -> None:
    """Validate and timestamp one status change; ``subject_id`` is e.g. ``movement_id=3``."""
    ledger.check_transition(subject, current, target)
    db.add(StateChange(from_status=current, to_status=target, reason=reason, at=at, **subject_id))


def set_account_status(
    db: Session, account: WalletAccount, target: str, reason: str | None, at: datetime
) -> None:
    ledger.check_account_reason(target, reason)
    change_state(db, "account", account.status, target, at=at, reason=reason, account_id=account.id)
    account.status, account.status_reason, account.status_changed_at = target, reason, at


def create_movement(
    db: Session, movement: Movement, accounts: dict[str, WalletAccount], *, at: datetime
) -> Movement:
    """Insert a movement in its first status and post what that status moves."""
    movement.created_at = movement.updated_at = at
    db.add(movement)
    db.flush()
    _apply(db, movement, None, movement.status, accounts, at=at, reason=movement.status_reason)
    return movement


def advance_movement(
    db: Session,
    movement: Movement,
    target: str,
    accounts: dict[str, WalletAccount],
    *,
    at: datetime,
    reason: str | None = None,
) -> None:
    """Move a movement to ``target`` and post what that change moves, in one step."""
    _apply(db, movement, movement.status, target, accounts, at=at, reason=reason)
    movement.status, movement.status_reason, movement.updated_at = target, reason, at


def _apply(
    db: Session,
    movement: Movement,
    current: str | None,
    target: str,
    accounts: dict[str, WalletAccount],
    *,
    at: datetime,
    reason: str | None,
) -> None:
    change_state(db, movement.kind, current, target, at=at, reason=reason, movement_id=movement.id)
    lines = ledger.movement_lines(
        movement.kind,
        current,
        target,
        account=movement.account_id,
        amount_fen=movement.amount_fen,
        fee_fen=movement.fee_fen,
        counterparty_account=movement.counterparty_account_id,
    )
    post(db, lines, accounts, memo=f"{movement.kind}:{target}", at=at, movement_id=movement.id)


def finish(
    db: Session,
    ctx: ActionContext,
    result_ref: str | int,
    *,
    action: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Record the key's result and, for support actions, the audit row."""
    complete(db, ctx, result_ref)
    if action is not None:
        if ctx.reason:
            after = {**(after or {}), "staff_reason": ctx.reason}
        audit.record(
            db,
            actor=ctx.actor,
            action=action,
            customer_id=ctx.customer_id,
            case_reference=ctx.case_reference,
            before=before,
            after=after,
        )
