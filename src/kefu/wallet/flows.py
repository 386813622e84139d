"""Money flows of the built-in core: top-ups, payments, transfers and withdrawals, and the
bank's or merchant's later answer on each. In a real deployment these happen in the
company's core; here they let every support flow be tried end to end.

Each function is one idempotent operation inside its own savepoint, so a refused
operation leaves nothing behind even when the caller carries on with the session.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from kefu.db import utcnow
from kefu.errors import InvalidInput
from kefu.wallet import ledger, queries, repo
from kefu.wallet.errors import IllegalTransition, WalletNotFound, WrongCurrency
from kefu.wallet.idempotency import ActionContext, claim
from kefu.wallet.models import BankCard, Movement, WalletAccount

PAYMENT_OUTCOMES = ("succeeded", "failed", "deducted_failed")


def _check_currency(account: WalletAccount, currency: str) -> None:
    if currency != account.currency:
        raise WrongCurrency(
            f"the account holds {account.currency}", currency=currency, expected=account.currency
        )


def _card(db: Session, account_id: str, card_id: int) -> BankCard:
    card = db.get(BankCard, card_id)
    if card is None or card.account_id != account_id:
        raise WalletNotFound("no such bank card on this account", what="card", ref=str(card_id))
    return card


def _check_limit(db: Session, account: WalletAccount, movement_kind: str, amount: int) -> None:
    limit_kind = ledger.LIMIT_KIND_OF_MOVEMENT[movement_kind]
    ledger.check_limit(
        limit_kind,
        amount,
        used_today_fen=queries.used_today_fen(db, account.id, limit_kind),
        per_day_fen=getattr(account, f"{limit_kind}_day_fen"),
        per_txn_fen=getattr(account, f"{limit_kind}_txn_fen"),
    )


def start_top_up(
    db: Session,
    *,
    account_id: str,
    card_id: int,
    amount_fen: int,
    currency: str,
    ctx: ActionContext,
) -> Movement:
    """The customer asked the bank to fund the wallet; it stays pending until the bank answers."""
    with db.begin_nested():
        args = {"account": account_id, "card": card_id, "amount": amount_fen, "cur": currency}
        if (ref := claim(db, ctx, "topup", args)) is not None:
            return repo.get_movement(db, int(ref))
        account = repo.lock_accounts(db, [account_id])[account_id]
        _check_currency(account, currency)
        repo.require_active(account)
        card = _card(db, account_id, card_id)
        _check_limit(db, account, "topup", amount_fen)
        movement = repo.create_movement(
            db,
            Movement(
                kind="topup",
                account_id=account_id,
                card_id=card.id,
                counterparty=f"{card.bank} {card.last4}",
                amount_fen=amount_fen,
                fee_fen=0,
                currency=currency,
                status="pending",
            ),
            {account_id: account},
            at=utcnow(),
        )
        repo.finish(db, ctx, movement.id)
        return movement


def pay(
    db: Session,
    *,
    account_id: str,
    merchant: str,
    amount_fen: int,
    currency: str,
    outcome: str,
    ctx: ActionContext,
    reason: str | None = None,
) -> Movement:
    """A payment to a merchant with the merchant's answer: ``deducted_failed`` is the
    case where the money left the wallet but the order failed and must be reversed."""
    if outcome not in PAYMENT_OUTCOMES:
        raise InvalidInput(f"outcome must be one of {PAYMENT_OUTCOMES}", field="outcome")
    with db.begin_nested():
        args = {
            "account": account_id,
            "merchant": merchant,
            "amount": amount_fen,
            "cur": currency,
            "outcome": outcome,
            "reason": reason,
        }
        if (ref := claim(db, ctx, "payment", args)) is not None:
            return repo.get_movement(db, int(ref))
        account = repo.lock_accounts(db, [account_id])[account_id]
        _check_currency(account, currency)
        repo.require_active(account)
        _check_limit(db, account, "payment", amount_fen)
        movement = repo.create_movement(
            db,
            Movement(
                kind="payment",
                account_id=account_id,
                counterparty=merchant,
                amount_fen=amount_fen,
                fee_fen=0,
                currency=currency,
                status=outcome,
                status_reason=reason,
            ),
            {account_id: account},
            at=utcnow(),
        )
        repo.finish(db, ctx, movement.id)
        return movement


def transfer(
    db: Session,
    *,
    account_id: str,
    to_account_id: str,
    amount_fen: int,
    currency: str,
    ctx: ActionContext,
    hold: bool = False,
) -> Movement:
    """Money to another customer. ``hold`` keeps it processing (a risk review or a delay)
    until ``settle`` says it arrived or was returned; otherwise it arrives at once."""
    if to_account_id == account_id:
        raise InvalidInput("a transfer needs two different accounts", field="to_account_id")
    with db.begin_nested():
        args = {
            "account": account_id,
            "to": to_account_id,
            "amount": amount_fen,
            "cur": currency,
            "hold": hold,
        }
        if (ref := claim(db, ctx, "transfer", args)) is not None:
            return repo.get_movement(db, int(ref))
        accounts = repo.lock_accounts(db, [account_id, to_account_id])
        source, target = accounts[account_id], accounts[to_account_id]
        _check_currency(source, currency)
        _check_currency(target, currency)
        repo.require_active(source)
        if target.status == "closed":
            raise IllegalTransition(
                "the receiving account is closed",
                subject="account",
                current="closed",
                target="credit",
            )
        _check_limit(db, source, "transfer", amount_fen)
        now = utcnow()
        movement = repo.create_movement(
            db,
            Movement(
                kind="transfer",
                account_id=account_id,
                counterparty=target.name,
                counterparty_account_id=to_account_id,
                amount_fen=amount_fen,
                fee_fen=0,
                currency=currency,
                status="processing",
            ),
            accounts,
            at=now,
        )
        if not hold:
            repo.advance_movement(db, movement, "arrived", accounts, at=now)
        repo.finish(db, ctx, movement.id)
        return movement


def withdraw(
    db: Session,
    *,
    account_id: str,
    card_id: int,
    amount_fen: int,
    currency: str,
    ctx: ActionContext,
) -> Movement:
    """Money to the customer's bank card, with the withdrawal fee; processing until the bank
    answers."""
    with db.begin_nested():
        args = {"account": account_id, "card": card_id, "amount": amount_fen, "cur": currency}
        if (ref := claim(db, ctx, "withdrawal", args)) is not None:
            return repo.get_movement(db, int(ref))
        account = repo.lock_accounts(db, [account_id])[account_id]
        _check_currency(account, currency)
        repo.require_active(account)
        card = _card(db, account_id, card_id)
        _check_limit(db, account, "withdrawal", amount_fen)
        movement = repo.create_movement(
            db,
            Movement(
                kind="withdrawal",
                account_id=account_id,
                card_id=card.id,
                counterparty=f"{card.bank} {card.last4}",
                amount_fen=amount_fen,
                fee_fen=ledger.withdrawal_fee(amount_fen),
                currency=currency,
                status="processing",
            ),
            {account_id: account},
            at=utcnow(),
        )
        repo.finish(db, ctx, movement.id)
        return movement


def settle(
    db: Session,
    *,
    movement_id: int,
    outcome: str,
    ctx: ActionContext,
    reason: str | None = None,
    audit_action: str | None = None,
) -> Movement:
    """The bank's or merchant's answer on a movement (credited, failed, arrived, returned,
    reversed…); the transition table decides what is allowed and what it moves."""
    with db.begin_nested():
        args = {"movement": movement_id, "outcome": outcome, "reason": reason}
        if (ref := claim(db, ctx, audit_action or "settle", args)) is not None:
            return repo.get_movement(db, int(ref))
        movement = repo.get_movement(db, movement_id)
        parties = [movement.account_id]
        if movement.counterparty_account_id:
            parties.append(movement.counterparty_account_id)
        accounts = repo.lock_accounts(db, parties)
        movement = repo.get_movement(db, movement_id, fresh=True)
        before = {
            "transaction": movement.id,
            "kind": movement.kind,
            "status": movement.status,
            "wallet_account_id": movement.account_id,
        }
        repo.advance_movement(db, movement, outcome, accounts, at=utcnow(), reason=reason)
        after = {**before, "status": movement.status}
        repo.finish(db, ctx, movement.id, action=audit_action, before=before, after=after)
        return movement


def reverse_payment(db: Session, *, movement_id: int, ctx: ActionContext) -> Movement:
    """Give back a payment that was deducted although the order failed."""
    movement = repo.get_movement(db, movement_id)
    if movement.kind != "payment":
        raise IllegalTransition(
            "only payments are reversed here",
            subject=movement.kind,
            current=movement.status,
            target="reversed",
        )
    return settle(
        db,
        movement_id=movement_id,
        outcome="reversed",
        ctx=ctx,
        reason="deducted_but_failed",
        audit_action="wallet.reverse_payment",
    )
