"""Accounts and their security state: opening, cards, logins, and the support actions on
an account (unlock, freeze, unfreeze, password reset, limits). Services flush; the route,
CLI command or job that called them commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db import utcnow
from kefu.errors import Conflict, InvalidInput
from kefu.wallet import ledger, repo
from kefu.wallet.errors import IllegalTransition
from kefu.wallet.idempotency import ActionContext, claim
from kefu.wallet.models import BankCard, LoginEvent, WalletAccount

CARD_TYPES = ("debit", "credit")


def snapshot(account: WalletAccount) -> dict[str, Any]:
    """What an audit row shows of an account: its id and security state, never contacts."""
    return {
        "wallet_account_id": account.id,
        "status": account.status,
        "status_reason": account.status_reason,
        "failed_login_count": account.failed_login_count,
    }


def open_account(
    db: Session,
    *,
    account_id: str,
    name: str,
    phone: str | None,
    email: str | None,
    at: datetime | None = None,
) -> WalletAccount:
    """Open an active, empty account with the default limits (the account id is its key)."""
    if db.get(WalletAccount, account_id) is not None:
        raise Conflict("this wallet account exists", account=account_id)
    at = at or utcnow()
    account = WalletAccount(
        id=account_id,
        name=name,
        phone=phone,
        email=email,
        currency=ledger.CURRENCY,
        status="active",
        status_changed_at=at,
        balance_fen=0,
        failed_login_count=0,
        created_at=at,
        **default_limit_columns(),
    )
    db.add(account)
    db.flush()
    repo.change_state(db, "account", None, "active", at=at, account_id=account_id)
    db.flush()
    return account


def default_limit_columns() -> dict[str, int]:
    columns: dict[str, int] = {}
    for kind, (per_day, per_txn) in ledger.DEFAULT_LIMITS_FEN.items():
        columns[f"{kind}_day_fen"], columns[f"{kind}_txn_fen"] = per_day, per_txn
    return columns


def bind_card(db: Session, *, account_id: str, bank: str, card_type: str, last4: str) -> BankCard:
    """Only the last four digits are taken: a longer number is refused, not truncated,
    so a caller that holds a full card number finds out instead of leaking it here."""
    if len(last4) != 4 or not last4.isdigit():
        raise InvalidInput("give only the last four digits of the card", field="last4")
    if card_type not in CARD_TYPES:
        raise InvalidInput(f"card type must be one of {CARD_TYPES}", field="card_type")
    repo.get_account(db, account_id)
    card = BankCard(
        account_id=account_id, bank=bank, card_type=card_type, last4=last4, bound_at=utcnow()
    )
    db.add(card)
    db.flush()
    return card


def record_login(
    db: Session,
    *,
    account_id: str,
    succeeded: bool,
    device: str,
    city: str,
    at: datetime | None = None,
) -> WalletAccount:
    """A login as the app reports it; the fifth wrong password in a row locks the account."""
    at = at or utcnow()
    with db.begin_nested():
        account = repo.lock_accounts(db, [account_id])[account_id]
        db.add(
            LoginEvent(account_id=account_id, at=at, succeeded=succeeded, device=device, city=city)
        )
        if succeeded:
            account.failed_login_count = 0
            account.last_login_at, account.last_login_device = at, device
            account.last_login_city = city
        else:
            account.failed_login_count += 1
            if (
                account.failed_login_count >= ledger.LOCK_AFTER_FAILED_LOGINS
                and account.status == "active"
            ):
                repo.set_account_status(db, account, "locked", "wrong_passwords", at)
        db.flush()
    return account


def _status_action(
    db: Session,
    *,
    account_id: str,
    ctx: ActionContext,
    action: str,
    target: str,
    reason: str | None,
    allowed_from: tuple[str, ...],
) -> WalletAccount:
    with db.begin_nested():
        args = {"account_id": account_id, "reason": reason}
        if (ref := claim(db, ctx, action, args)) is not None:
            return repo.get_account(db, ref)
        account = repo.lock_accounts(db, [account_id])[account_id]
        if account.status not in allowed_from:
            raise IllegalTransition(
                f"account is {account.status}",
                subject="account",
                current=account.status,
                target=target,
            )
        before = snapshot(account)
        repo.set_account_status(db, account, target, reason, utcnow())
        if target == "active":
            account.failed_login_count = 0
        repo.finish(db, ctx, account.id, action=action, before=before, after=snapshot(account))
        return account


def unlock(db: Session, *, account_id: str, ctx: ActionContext) -> WalletAccount:
    return _status_action(
        db,
        account_id=account_id,
        ctx=ctx,
        action="wallet.unlock",
        target="active",
        reason=None,
        allowed_from=("locked",),
    )


def freeze(db: Session, *, account_id: str, reason: str, ctx: ActionContext) -> WalletAccount:
    """Emergency freeze: allowed from active or locked, at once, by any agent."""
    ledger.check_account_reason("frozen", reason)
    return _status_action(
        db,
        account_id=account_id,
        ctx=ctx,
        action="wallet.freeze",
        target="frozen",
        reason=reason,
        allowed_from=("active", "locked"),
    )


def unfreeze(db: Session, *, account_id: str, ctx: ActionContext) -> WalletAccount:
    return _status_action(
        db,
        account_id=account_id,
        ctx=ctx,
        action="wallet.unfreeze",
        target="active",
        reason=None,
        allowed_from=("frozen",),
    )


def start_password_reset(db: Session, *, account_id: str, ctx: ActionContext) -> WalletAccount:
    """Marks that a reset link went to the customer's registered phone; the app finishes
    it. A frozen or closed account is not reset: its owner may not be the caller."""
    with db.begin_nested():
        if ref := claim(db, ctx, "wallet.password_reset", {"account_id": account_id}):
            return repo.get_account(db, ref)
        account = repo.lock_accounts(db, [account_id])[account_id]
        if account.status in ("frozen", "closed"):
            raise IllegalTransition(
                f"account is {account.status}",
                subject="account",
                current=account.status,
                target="password_reset",
            )
        before = {**snapshot(account), "password_reset_at": account.password_reset_at}
        account.password_reset_at = utcnow()
        after = {**snapshot(account), "password_reset_at": account.password_reset_at}
        repo.finish(db, ctx, account.id, action="wallet.password_reset", before=before, after=after)
        return account


def set_limits(
    db: Session,
    *,
    account_id: str,
    kind: str,
    per_day_fen: int,
    per_txn_fen: int,
    ctx: ActionContext,
) -> WalletAccount:
    if kind not in ledger.LIMIT_KINDS:
        raise InvalidInput(f"limit kind must be one of {ledger.LIMIT_KINDS}", field="kind")
    if per_txn_fen > per_day_fen:
        raise InvalidInput("the per-transaction limit exceeds the daily one", field="per_txn")
    with db.begin_nested():
        args = {"account_id": account_id, "kind": kind, "day": per_day_fen, "txn": per_txn_fen}
        if (ref := claim(db, ctx, "wallet.limits", args)) is not None:
            return repo.get_account(db, ref)
        account = repo.lock_accounts(db, [account_id])[account_id]
        day_col, txn_col = f"{kind}_day_fen", f"{kind}_txn_fen"
        before = {
            "wallet_account_id": account.id,
            "kind": kind,
            "per_day": ledger.format_fen(getattr(account, day_col)),
            "per_txn": ledger.format_fen(getattr(account, txn_col)),
        }
        setattr(account, day_col, per_day_fen)
        setattr(account, txn_col, per_txn_fen)
        after = {
            **before,
            "per_day": ledger.format_fen(per_day_fen),
            "per_txn": ledger.format_fen(per_txn_fen),
        }
        repo.finish(db, ctx, account.id, action="wallet.limits", before=before, after=after)
        return account


def find_account(
    db: Session,
    *,
    account_id: str | None = None,
    phone: str | None = None,
    email: str | None = None,
) -> WalletAccount | None:
    """Exactly one way to look up; phone numbers are the 11 national digits."""
    given = [value for value in (account_id, phone, email) if value]
    if len(given) != 1:
        raise InvalidInput("look up by exactly one of account id, phone or e-mail")
    if account_id:
        return db.get(WalletAccount, account_id)
    if phone:
        digits = phone.removeprefix("+86").replace(" ", "").replace("-", "")
        return db.scalar(select(WalletAccount).where(WalletAccount.phone == digits))
    assert email is not None
    return db.scalar(select(WalletAccount).where(WalletAccount.email == email.strip().lower()))


def cards(db: Session, account_id: str) -> list[BankCard]:
    return list(
        db.scalars(select(BankCard).where(BankCard.account_id == account_id).order_by(BankCard.id))
    )
