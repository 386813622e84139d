"""Commands that protect or restore a customer's account: unlock, start a password reset,
freeze, change limits. None moves money, so none waits for a supervisor (lifting a freeze
does: ``kefu.approvals.service.request_unfreeze``); each checks the requester's permission
and, for a customer, that their verification allows it (security questions allow freezing
only), and runs under the requester's idempotency key, which the wallet honours and writes
the audit row with."""

from __future__ import annotations

from kefu.support.money import Asked, Money
from kefu.wallet.offers import FREEZE_REASONS as FREEZE_REASONS  # the codes a freeze takes
from kefu.wallet.schemas import AccountView, LimitView


def unlock(m: Money, asked: Asked, *, account_id: str) -> AccountView:
    asked.requester.require(m.db, "wallet.act", "unlock")
    return m.wallet.unlock(account_id, ctx=asked.ctx())


def start_password_reset(m: Money, asked: Asked, *, account_id: str) -> AccountView:
    asked.requester.require(m.db, "wallet.act", "password_reset")
    return m.wallet.start_password_reset(account_id, ctx=asked.ctx())


def freeze(m: Money, asked: Asked, *, account_id: str, reason: str) -> AccountView:
    asked.requester.require(m.db, "wallet.act", "freeze")
    return m.wallet.freeze(account_id, reason=reason, ctx=asked.ctx())


def set_limits(
    m: Money, asked: Asked, *, account_id: str, kind: str, per_day: str, per_txn: str
) -> list[LimitView]:
    asked.requester.require(m.db, "wallet.limits", "set_limits")
    return m.wallet.set_limits(
        account_id, kind=kind, per_day=per_day, per_txn=per_txn, ctx=asked.ctx()
    )
