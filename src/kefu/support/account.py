"""Commands that protect or restore a customer's account: unlock, start a password reset,
freeze, change limits, request and decide an unfreeze. None moves money; only lifting a
freeze waits for a supervisor, always (``request_unfreeze`` files it, ``decide_unfreeze``
or the approval queue runs it, both through ``support.approval.decide``). Each checks the
requester's permission and, for a customer, that their verification allows it (security
questions allow freezing only), and runs under the requester's idempotency key, which the
wallet honours and writes the audit row with."""

from __future__ import annotations

from kefu.approvals import service as approvals
from kefu.approvals.errors import ApprovalNotFound
from kefu.approvals.models import ApprovalRequest
from kefu.errors import InvalidInput, PermissionDenied
from kefu.identity import service as identity_service
from kefu.support import approval, notes
from kefu.support.base import Asked, Money, command
from kefu.support.notes import Told
from kefu.wallet.errors import IllegalTransition
from kefu.wallet.offers import FREEZE_REASONS as FREEZE_REASONS  # the codes a freeze takes
from kefu.wallet.schemas import AccountView, LimitView


@command
def unlock(m: Money, asked: Asked, *, account_id: str) -> AccountView:
    asked.requester.require(m.db, "wallet.act", "unlock")
    view = m.wallet.unlock(account_id, ctx=asked.ctx())
    notes.note(
        m, asked, action="wallet.unlock", account_id=account_id, told=Told("support.told.unlock")
    )
    return view


@command
def start_password_reset(m: Money, asked: Asked, *, account_id: str) -> AccountView:
    asked.requester.require(m.db, "wallet.act", "password_reset")
    view = m.wallet.start_password_reset(account_id, ctx=asked.ctx())
    told = Told("support.told.password_reset")
    notes.note(m, asked, action="wallet.password_reset", account_id=account_id, told=told)
    return view


@command
def freeze(m: Money, asked: Asked, *, account_id: str, reason: str) -> AccountView:
    """Freezing only protects: a customer verified by security questions may ask for it,
    and so may someone who says the account was stolen before proving who they are
    (``Requester.in_emergency``, which allows nothing else)."""
    if reason not in FREEZE_REASONS:
        raise InvalidInput("choose why the account is frozen", field="freeze_reason")
    asked.requester.require(m.db, "wallet.act", "freeze")
    view = m.wallet.freeze(account_id, reason=reason, ctx=asked.ctx())
    told = Told("support.told.freeze")
    notes.note(m, asked, action="wallet.freeze", account_id=account_id, told=told, why=reason)
    return view


@command
def set_limits(
    m: Money, asked: Asked, *, account_id: str, kind: str, per_day: str, per_txn: str
) -> list[LimitView]:
    asked.requester.require(m.db, "wallet.limits", "set_limits")
    views = m.wallet.set_limits(
        account_id, kind=kind, per_day=per_day, per_txn=per_txn, ctx=asked.ctx()
    )
    notes.note(m, asked, action="wallet.set_limits", account_id=account_id, kind=kind)
    return views


@command
def request_unfreeze(m: Money, asked: Asked, *, account_id: str) -> ApprovalRequest:
    """The only way to ask for an unfreeze, whatever the surface: freezing only protects,
    so lifting it never happens at once. It becomes a request that runs when another
    person approves it (never the requester, and only with ``approval.decide`` and
    ``wallet.unfreeze``); self-service never files one. The request is tied to the
    account's holder; a ``customer_id`` that is not the holder is refused."""
    asked.requester.require(m.db, "wallet.act", "unfreeze")
    staff = asked.requester.staff
    if staff is None:
        raise PermissionDenied("an unfreeze is asked for by a person, never by self-service")
    holder = identity_service.find_customer_by_account(m.db, account_id)
    if asked.customer_id is not None and (holder is None or holder.id != asked.customer_id):
        raise InvalidInput("this customer does not hold the account", field="customer_id")
    if approvals.by_key(m.db, asked.key) is None:  # a retry is answered with what it filed
        account = m.wallet.get_account(account_id)
        if account.status != "frozen":
            raise IllegalTransition(
                f"account is {account.status}",
                subject="account",
                current=account.status,
                target="active",
            )
    return approval.file_request(
        m,
        asked,
        action="unfreeze",
        wallet_account_id=account_id,
        target_id=account_id,
        amount=None,
        customer_id=holder.id if holder is not None else None,
    )


@command
def decide_unfreeze(
    m: Money, asked: Asked, *, account_id: str, approve: bool, reason: str | None
) -> ApprovalRequest:
    """Decide the newest unfreeze request for the account (the one waiting, if any, so a
    retried decision is answered instead of refused), as the approval queue does: never
    by its requester; approved, the account is unfrozen now."""
    asked.requester.require(m.db, "wallet.unfreeze", "unfreeze")
    staff = asked.requester.staff
    if staff is None:
        raise PermissionDenied("an unfreeze is decided by a person")
    latest = approvals.latest_for(m.db, action="unfreeze", target_id=account_id)
    if latest is None:
        raise ApprovalNotFound(f"no unfreeze request for {account_id}")
    return approval.decide(m, asked, approval_id=latest.id, approve=approve, reason=reason)
