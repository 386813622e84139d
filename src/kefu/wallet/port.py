"""The wallet port: everything customer service needs from a wallet core, and no more.

Other domains use only this interface. The built-in wallet (``kefu.wallet.builtin``) is its
first implementation; a company's core is plugged in by writing another one, typically
over HTTP. Every method is a request/response with plain values, so each maps to one
HTTP call: no sessions, no callbacks, no shared transactions. Each write takes an
``ActionContext`` whose ``key`` the core must honour as an idempotency key (see
docs/wallet.md).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from kefu.config import Settings
from kefu.errors import ConfigError
from kefu.wallet.idempotency import ActionContext
from kefu.wallet.schemas import (
    AccountView,
    DisputeView,
    LimitView,
    LoginEventView,
    RefundView,
    TransactionFilter,
    TransactionView,
)

__all__ = ["ActionContext", "WalletFactory", "WalletGateway", "build_wallet"]


class WalletGateway(Protocol):
    # --- look-ups ---------------------------------------------------------------------
    def find_account(
        self,
        *,
        account_id: str | None = None,
        phone: str | None = None,
        email: str | None = None,
    ) -> AccountView | None: ...

    def get_account(self, account_id: str) -> AccountView: ...

    def list_transactions(
        self, account_id: str, filters: TransactionFilter
    ) -> list[TransactionView]: ...

    def get_transaction(self, transaction_id: str) -> TransactionView: ...

    def find_top_ups(
        self,
        account_id: str,
        *,
        amount: str | None = None,
        around: datetime | None = None,
        card_last4: str | None = None,
    ) -> list[TransactionView]: ...

    def login_events(self, account_id: str, *, limit: int = 20) -> list[LoginEventView]: ...

    def list_refunds(self, account_id: str) -> list[RefundView]: ...

    def get_refund(self, refund_id: str) -> RefundView: ...

    def list_disputes(self, account_id: str) -> list[DisputeView]: ...

    def get_dispute(self, dispute_id: str) -> DisputeView: ...

    def get_limits(self, account_id: str) -> list[LimitView]: ...

    # --- actions (idempotent by ctx.key, audited) --------------------------------------
    def unlock(self, account_id: str, *, ctx: ActionContext) -> AccountView: ...

    def freeze(self, account_id: str, *, reason: str, ctx: ActionContext) -> AccountView: ...

    def unfreeze(self, account_id: str, *, ctx: ActionContext) -> AccountView: ...

    def start_password_reset(self, account_id: str, *, ctx: ActionContext) -> AccountView: ...

    def reverse_payment(self, transaction_id: str, *, ctx: ActionContext) -> TransactionView: ...

    def create_refund(
        self, transaction_id: str, *, amount: str, reason: str, ctx: ActionContext
    ) -> RefundView: ...

    def decide_refund(
        self, refund_id: str, *, approve: bool, reason: str | None, ctx: ActionContext
    ) -> RefundView: ...

    def open_dispute(
        self, transaction_id: str, *, reason: str, ctx: ActionContext
    ) -> DisputeView: ...

    def decide_dispute(
        self, dispute_id: str, *, outcome: str, reason: str | None, ctx: ActionContext
    ) -> DisputeView: ...

    def set_limits(
        self, account_id: str, *, kind: str, per_day: str, per_txn: str, ctx: ActionContext
    ) -> list[LimitView]: ...


def _builtin(settings: Settings, db: Session) -> WalletGateway:
    from kefu.wallet.builtin import BuiltinWallet

    # one amount decides both the core's refund review and Kefu's four-eyes rule
    return BuiltinWallet(db, review_above_fen=int(settings.approval_amount_above * 100))


_BACKENDS: dict[str, Callable[[Settings, Session], WalletGateway]] = {"builtin": _builtin}


def check_backend(settings: Settings) -> None:
    if settings.wallet_backend not in _BACKENDS:
        raise ConfigError(
            f"KEFU_WALLET_BACKEND={settings.wallet_backend!r}; expected one of {sorted(_BACKENDS)}"
        )


WalletFactory = Callable[[Session], WalletGateway]


def build_wallet(settings: Settings) -> WalletFactory:
    """The configured adapter, chosen and checked once (at start-up): it gives the gateway
    for one unit of work, which the built-in wallet runs in that unit's session."""
    check_backend(settings)
    backend = _BACKENDS[settings.wallet_backend]
    return lambda db: backend(settings, db)
