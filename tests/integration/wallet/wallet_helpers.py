"""Building blocks for wallet tests: accounts with money, and action contexts."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from kefu import audit
from kefu.wallet import accounts, flows, ledger
from kefu.wallet.idempotency import ActionContext
from kefu.wallet.models import BankCard, WalletAccount


def ctx(key: str | None = None, role: str = "agent") -> ActionContext:
    return ActionContext(key=key or uuid.uuid4().hex, actor=audit.Actor(f"staff:{role}", role))


def funded_account(db: Session, balance: str = "0", account_id: str | None = None) -> WalletAccount:
    """An active account with one debit card and, if asked, a credited top-up."""
    account_id = account_id or f"W{uuid.uuid4().hex[:12]}"
    account = accounts.open_account(
        db, account_id=account_id, name=f"客户 {account_id[-4:]}", phone=None, email=None
    )
    card = accounts.bind_card(
        db, account_id=account_id, bank="招商银行", card_type="debit", last4="1234"
    )
    if balance != "0":
        top_up = flows.start_top_up(
            db,
            account_id=account_id,
            card_id=card.id,
            amount_fen=ledger.to_fen(balance),
            currency="CNY",
            ctx=ctx(),
        )
        flows.settle(db, movement_id=top_up.id, outcome="credited", ctx=ctx())
    return account


def card_of(db: Session, account_id: str) -> BankCard:
    card = db.query(BankCard).filter_by(account_id=account_id).first()
    assert card is not None
    return card
