"""Tables of the built-in wallet core.

Money is integer fen (分) everywhere below the port. Balances are derived from
``journal_entry`` rows; ``wallet_account.balance_fen`` is a cache kept in the same
transaction as the entries and proven equal to them by ``kefu wallet check``. Other domains
never import this module: they talk to the wallet through ``kefu.wallet.port``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db import Base, UtcDateTime

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL needs BIGINT for millions of rows.
BigId = BigInteger().with_variant(Integer, "sqlite")


class WalletAccount(Base):
    """A customer's wallet and its security state.

    ``status_reason`` says why an account is locked (wrong_passwords, inactivity,
    security_check) or frozen (customer_request, stolen, risk); the agent has to tell the
    customer. The CHECK keeps a balance from going negative even if a rule were bypassed.
    """

    __tablename__ = "wallet_account"
    __table_args__ = (CheckConstraint("balance_fen >= 0", name="balance_not_negative"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(String(32))
    status_changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    balance_fen: Mapped[int] = mapped_column(BigInteger)
    failed_login_count: Mapped[int] = mapped_column(Integer)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_login_device: Mapped[str | None] = mapped_column(String(80))
    last_login_city: Mapped[str | None] = mapped_column(String(60))
    password_reset_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    top_up_day_fen: Mapped[int] = mapped_column(BigInteger)
    top_up_txn_fen: Mapped[int] = mapped_column(BigInteger)
    transfer_day_fen: Mapped[int] = mapped_column(BigInteger)
    transfer_txn_fen: Mapped[int] = mapped_column(BigInteger)
    payment_day_fen: Mapped[int] = mapped_column(BigInteger)
    payment_txn_fen: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class BankCard(Base):
    """A bound bank card. Only the bank, the card type and the last four digits exist here:
    a full card number is never accepted, so it can never be stored, shown or logged."""

    __tablename__ = "wallet_bank_card"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("wallet_account.id"), index=True)
    bank: Mapped[str] = mapped_column(String(60))
    card_type: Mapped[str] = mapped_column(String(10))  # debit | credit
    last4: Mapped[str] = mapped_column(String(4))
    bound_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LoginEvent(Base):
    """Logins as the app reports them, kept for "was that login really me?" questions."""

    __tablename__ = "wallet_login_event"
    __table_args__ = (Index("ix_wallet_login_event_account_at", "account_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("wallet_account.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    succeeded: Mapped[bool]
    device: Mapped[str] = mapped_column(String(80))
    city: Mapped[str] = mapped_column(String(60))


class Movement(Base):
    """One top-up, payment, transfer or withdrawal seen from the paying or receiving
    customer. ``counterparty`` is what the customer recognises (a merchant, a person, a
    bank card ending 1234); ``counterparty_account_id`` is set for transfers."""

    __tablename__ = "wallet_movement"
    __table_args__ = (
        Index("ix_wallet_movement_account_created", "account_id", "created_at"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("fee_fen >= 0", name="fee_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    account_id: Mapped[str] = mapped_column(ForeignKey("wallet_account.id"))
    counterparty: Mapped[str] = mapped_column(String(120))
    counterparty_account_id: Mapped[str | None] = mapped_column(
        ForeignKey("wallet_account.id"), index=True
    )
    card_id: Mapped[int | None] = mapped_column(ForeignKey("wallet_bank_card.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    fee_fen: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))
    status_reason: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Refund(Base):
    __tablename__ = "wallet_refund"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("wallet_movement.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("wallet_account.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(String(200))
    decision_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Dispute(Base):
    __tablename__ = "wallet_dispute"

    id: Mapped[int] = mapped_column(primary_key=True)
    movement_id: Mapped[int] = mapped_column(ForeignKey("wallet_movement.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("wallet_account.id"), index=True)
    status: Mapped[str] = mapped_column(String(14))
    reason: Mapped[str] = mapped_column(String(200))
    decision_reason: Mapped[str | None] = mapped_column(String(200))
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("wallet_refund.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class StateChange(Base):
    """Every status change of an account, movement, refund or dispute, with its time, so
    an agent can say when something happened and the check can replay the transitions.
    Exactly one of the four subject columns is set."""

    __tablename__ = "wallet_state_change"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[str | None] = mapped_column(ForeignKey("wallet_account.id"), index=True)
    movement_id: Mapped[int | None] = mapped_column(ForeignKey("wallet_movement.id"), index=True)
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("wallet_refund.id"), index=True)
    dispute_id: Mapped[int | None] = mapped_column(ForeignKey("wallet_dispute.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class JournalTransaction(Base):
    """One money movement in the double-entry ledger; its entries sum to zero."""

    __tablename__ = "journal_txn"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    movement_id: Mapped[int | None] = mapped_column(ForeignKey("wallet_movement.id"), index=True)
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("wallet_refund.id"), index=True)
    memo: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class JournalEntry(Base):
    """A signed amount on one ledger account: a wallet account id or a house account."""

    __tablename__ = "journal_entry"
    __table_args__ = (CheckConstraint("amount_fen <> 0", name="amount_not_zero"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    journal_id: Mapped[int] = mapped_column(ForeignKey("journal_txn.id"), index=True)
    ledger_account: Mapped[str] = mapped_column(String(40), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)


class IdempotencyKey(Base):
    """The first use of a key: a digest of what was asked and a reference to the result.

    The primary key is what catches two concurrent requests with the same key.
    """

    __tablename__ = "wallet_idempotency_key"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    operation: Mapped[str] = mapped_column(String(40))
    request_hash: Mapped[str] = mapped_column(String(64))
    result_ref: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
