"""Wallet errors. Each names a catalogue text in both languages so an agent or the
assistant can say exactly why an action was refused."""

from __future__ import annotations

from kefu.errors import Conflict, InvalidInput, NotFound


class InvalidAmount(InvalidInput):
    code = "invalid_amount"
    message_key = "error.wallet.invalid_amount"


class WrongCurrency(InvalidInput):
    code = "wrong_currency"
    message_key = "error.wallet.wrong_currency"


class LimitExceeded(InvalidInput):
    code = "limit_exceeded"
    message_key = "error.wallet.limit_exceeded"


class WalletNotFound(NotFound):
    code = "wallet_not_found"
    message_key = "error.wallet.not_found"


class InsufficientFunds(Conflict):
    code = "insufficient_funds"
    message_key = "error.wallet.insufficient_funds"


class IllegalTransition(Conflict):
    code = "illegal_transition"
    message_key = "error.wallet.illegal_transition"


class AccountNotActive(Conflict):
    code = "account_not_active"
    message_key = "error.wallet.account_not_active"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"
    message_key = "error.wallet.idempotency_conflict"


class UnbalancedEntry(Exception):
    """A journal whose lines do not sum to zero: a bug in a posting rule, never bad input,
    so it is not a ``KefuError`` and surfaces as a 500."""
