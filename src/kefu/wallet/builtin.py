"""The built-in wallet behind the port: the services of this package, in the caller's
session, turned into port views. The caller (a route, a CLI command) commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from kefu.masking import mask_card, mask_email, mask_phone
from kefu.wallet import accounts, flows, ledger, queries, refunds, repo
from kefu.wallet.errors import WalletNotFound
from kefu.wallet.idempotency import ActionContext
from kefu.wallet.models import Dispute, Movement, Refund, WalletAccount
from kefu.wallet.schemas import (
    AccountView,
    CardView,
    DisputeView,
    LimitView,
    LoginEventView,
    RefundView,
    StatusChangeView,
    TransactionFilter,
    TransactionView,
)


def _int_id(value: str, what: str) -> int:
    """Built-in ids are numbers; anything else cannot exist here."""
    if not value.isdigit() or len(value) > 18:
        raise WalletNotFound(f"no such {what}", what=what, ref=value)
    return int(value)


def _fen(value: str | None) -> int | None:
    return None if value is None else ledger.to_fen(value)


class BuiltinWallet:
    def __init__(
        self, db: Session, *, review_above_fen: int = ledger.SUPERVISOR_REFUND_THRESHOLD_FEN
    ) -> None:
        self.db = db
        self.review_above_fen = review_above_fen

    # --- views --------------------------------------------------------------------------
    def _account(self, account: WalletAccount) -> AccountView:
        return AccountView(
            account_id=account.id,
            name=account.name,
            phone_masked=mask_phone(account.phone),
            email_masked=mask_email(account.email),
            currency=account.currency,
            status=account.status,
            status_reason=account.status_reason,
            status_changed_at=account.status_changed_at,
            balance=ledger.to_yuan(account.balance_fen),
            failed_login_count=account.failed_login_count,
            last_login_at=account.last_login_at,
            last_login_device=account.last_login_device,
            last_login_city=account.last_login_city,
            password_reset_at=account.password_reset_at,
            cards=[
                CardView(
                    id=str(card.id),
                    bank=card.bank,
                    card_type=card.card_type,
                    masked_number=mask_card(card.last4),
                )
                for card in accounts.cards(self.db, account.id)
            ],
        )

    def _transactions(
        self, rows: list[tuple[Movement, str]], viewer: str | None
    ) -> list[TransactionView]:
        ids = [movement.id for movement, _ in rows]
        changes = queries.history(self.db, ids)
        last4 = queries.card_last4(self.db, [m.card_id for m, _ in rows if m.card_id])
        views = []
        for movement, counterparty in rows:
            owner_side = viewer is None or movement.account_id == viewer
            incoming = movement.kind == "topup" if owner_side else True
            views.append(
                TransactionView(
                    id=str(movement.id),
                    account_id=movement.account_id,
                    kind=movement.kind,
                    direction="in" if incoming else "out",
                    status=movement.status,
                    status_reason=movement.status_reason,
                    amount=ledger.to_yuan(movement.amount_fen),
                    fee=ledger.to_yuan(movement.fee_fen),
                    currency=movement.currency,
                    counterparty=counterparty,
                    card_last4=last4.get(movement.card_id) if movement.card_id else None,
                    created_at=movement.created_at,
                    updated_at=movement.updated_at,
                    history=[
                        StatusChangeView(
                            from_status=c.from_status,
                            to_status=c.to_status,
                            reason=c.reason,
                            at=c.at,
                        )
                        for c in changes.get(movement.id, [])
                    ],
                )
            )
        return views

    def _transaction(self, movement: Movement) -> TransactionView:
        return self._transactions([(movement, movement.counterparty)], None)[0]

    def _refund(self, refund: Refund) -> RefundView:
        return RefundView(
            id=str(refund.id),
            transaction_id=str(refund.payment_id),
            account_id=refund.account_id,
            amount=ledger.to_yuan(refund.amount_fen),
            status=refund.status,
            reason=refund.reason,
            decision_reason=refund.decision_reason,
            needs_supervisor=ledger.needs_supervisor(refund.amount_fen, self.review_above_fen),
            created_at=refund.created_at,
            updated_at=refund.updated_at,
        )

    @staticmethod
    def _dispute(dispute: Dispute) -> DisputeView:
        return DisputeView(
            id=str(dispute.id),
            transaction_id=str(dispute.movement_id),
            account_id=dispute.account_id,
            status=dispute.status,
            reason=dispute.reason,
            decision_reason=dispute.decision_reason,
            refund_id=str(dispute.refund_id) if dispute.refund_id else None,
            created_at=dispute.created_at,
            updated_at=dispute.updated_at,
        )

    # --- look-ups -------------------------------------------------------------------------
    def find_account(
        self,
        *,
        account_id: str | None = None,
        phone: str | None = None,
        email: str | None = None,
    ) -> AccountView | None:
        found = accounts.find_account(self.db, account_id=account_id, phone=phone, email=email)
        return self._account(found) if found is not None else None

    def get_account(self, account_id: str) -> AccountView:
        return self._account(repo.get_account(self.db, account_id))

    def list_transactions(
        self, account_id: str, filters: TransactionFilter
    ) -> list[TransactionView]:
        repo.get_account(self.db, account_id)
        rows = queries.list_transactions(
            self.db,
            account_id,
            since=filters.since,
            until=filters.until,
            min_amount_fen=_fen(filters.min_amount),
            max_amount_fen=_fen(filters.max_amount),
            counterparty=filters.counterparty,
            kind=filters.kind,
            limit=filters.limit,
        )
        return self._transactions(rows, account_id)

    def get_transaction(self, transaction_id: str) -> TransactionView:
        movement = repo.get_movement(self.db, _int_id(transaction_id, "transaction"))
        return self._transaction(movement)

    def find_top_ups(
        self,
        account_id: str,
        *,
        amount: str | None = None,
        around: datetime | None = None,
        card_last4: str | None = None,
    ) -> list[TransactionView]:
        repo.get_account(self.db, account_id)
        found = queries.find_top_ups(
            self.db, account_id, amount_fen=_fen(amount), around=around, card_last4=card_last4
        )
        return self._transactions([(m, m.counterparty) for m in found], account_id)

    def login_events(self, account_id: str, *, limit: int = 20) -> list[LoginEventView]:
        repo.get_account(self.db, account_id)
        return [
            LoginEventView(at=e.at, succeeded=e.succeeded, device=e.device, city=e.city)
            for e in queries.login_events(self.db, account_id, limit=limit)
        ]

    def list_refunds(self, account_id: str) -> list[RefundView]:
        return [self._refund(r) for r in queries.refunds_of(self.db, account_id)]

    def get_refund(self, refund_id: str) -> RefundView:
        return self._refund(repo.get_refund(self.db, _int_id(refund_id, "refund")))

    def list_disputes(self, account_id: str) -> list[DisputeView]:
        return [self._dispute(d) for d in queries.disputes_of(self.db, account_id)]

    def get_dispute(self, dispute_id: str) -> DisputeView:
        return self._dispute(repo.get_dispute(self.db, _int_id(dispute_id, "dispute")))

    def get_limits(self, account_id: str) -> list[LimitView]:
        account = repo.get_account(self.db, account_id)
        return [
            LimitView(
                kind=kind,
                per_day=ledger.to_yuan(getattr(account, f"{kind}_day_fen")),
                per_txn=ledger.to_yuan(getattr(account, f"{kind}_txn_fen")),
                used_today=ledger.to_yuan(queries.used_today_fen(self.db, account.id, kind)),
            )
            for kind in ledger.LIMIT_KINDS
        ]

    # --- actions ---------------------------------------------------------------------------
    def unlock(self, account_id: str, *, ctx: ActionContext) -> AccountView:
        return self._account(accounts.unlock(self.db, account_id=account_id, ctx=ctx))

    def freeze(self, account_id: str, *, reason: str, ctx: ActionContext) -> AccountView:
        return self._account(
            accounts.freeze(self.db, account_id=account_id, reason=reason, ctx=ctx)
        )

    def unfreeze(self, account_id: str, *, ctx: ActionContext) -> AccountView:
        return self._account(accounts.unfreeze(self.db, account_id=account_id, ctx=ctx))

    def start_password_reset(self, account_id: str, *, ctx: ActionContext) -> AccountView:
        return self._account(accounts.start_password_reset(self.db, account_id=account_id, ctx=ctx))

    def reverse_payment(self, transaction_id: str, *, ctx: ActionContext) -> TransactionView:
        movement_id = _int_id(transaction_id, "transaction")
        return self._transaction(flows.reverse_payment(self.db, movement_id=movement_id, ctx=ctx))

    def create_refund(
        self, transaction_id: str, *, amount: str, reason: str, ctx: ActionContext
    ) -> RefundView:
        refund = refunds.create_refund(
            self.db,
            payment_id=_int_id(transaction_id, "transaction"),
            amount_fen=ledger.to_fen(amount),
            reason=reason,
            ctx=ctx,
        )
        return self._refund(refund)

    def decide_refund(
        self, refund_id: str, *, approve: bool, reason: str | None, ctx: ActionContext
    ) -> RefundView:
        refund = refunds.decide_refund(
            self.db,
            refund_id=_int_id(refund_id, "refund"),
            approve=approve,
            reason=reason,
            ctx=ctx,
        )
        return self._refund(refund)

    def open_dispute(self, transaction_id: str, *, reason: str, ctx: ActionContext) -> DisputeView:
        dispute = refunds.open_dispute(
            self.db, movement_id=_int_id(transaction_id, "transaction"), reason=reason, ctx=ctx
        )
        return self._dispute(dispute)

    def decide_dispute(
        self, dispute_id: str, *, outcome: str, reason: str | None, ctx: ActionContext
    ) -> DisputeView:
        dispute = refunds.decide_dispute(
            self.db,
            dispute_id=_int_id(dispute_id, "dispute"),
            outcome=outcome,
            reason=reason,
            ctx=ctx,
        )
        return self._dispute(dispute)

    def set_limits(
        self, account_id: str, *, kind: str, per_day: str, per_txn: str, ctx: ActionContext
    ) -> list[LimitView]:
        accounts.set_limits(
            self.db,
            account_id=account_id,
            kind=kind,
            per_day_fen=ledger.to_fen(per_day),
            per_txn_fen=ledger.to_fen(per_txn),
            ctx=ctx,
        )
        return self.get_limits(account_id)
