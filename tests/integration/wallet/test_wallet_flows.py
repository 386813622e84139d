from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from tests.integration.wallet.wallet_helpers import card_of, ctx, funded_account

from kefu.audit import AuditEvent
from kefu.errors import Conflict, InvalidInput
from kefu.wallet import accounts, check, flows, ledger, refunds, repo
from kefu.wallet.errors import (
    AccountNotActive,
    IdempotencyConflict,
    IllegalTransition,
    InsufficientFunds,
    LimitExceeded,
    WalletNotFound,
    WrongCurrency,
)
from kefu.wallet.models import JournalEntry, Movement


def _entries_of(db: Session, account_id: str) -> int:
    total = db.scalar(
        select(func.coalesce(func.sum(JournalEntry.amount_fen), 0)).where(
            JournalEntry.ledger_account == account_id
        )
    )
    return int(total or 0)


def assert_consistent(db: Session) -> None:
    db.flush()
    report = check.run(db)
    assert report.ok, report.breaches


def test_top_up_is_pending_until_the_bank_credits_it(db: Session) -> None:
    account = funded_account(db)
    card = card_of(db, account.id)
    top_up = flows.start_top_up(
        db, account_id=account.id, card_id=card.id, amount_fen=500_00, currency="CNY", ctx=ctx()
    )
    assert (top_up.status, account.balance_fen) == ("pending", 0)
    flows.settle(db, movement_id=top_up.id, outcome="credited", ctx=ctx())
    assert account.balance_fen == _entries_of(db, account.id) == 500_00
    flows.settle(db, movement_id=top_up.id, outcome="reversed", ctx=ctx(), reason="bank_recall")
    assert account.balance_fen == _entries_of(db, account.id) == 0
    assert_consistent(db)


def test_failed_top_up_moves_nothing_and_cannot_be_credited_later(db: Session) -> None:
    account = funded_account(db)
    top_up = flows.start_top_up(
        db,
        account_id=account.id,
        card_id=card_of(db, account.id).id,
        amount_fen=100_00,
        currency="CNY",
        ctx=ctx(),
    )
    flows.settle(db, movement_id=top_up.id, outcome="failed", ctx=ctx(), reason="card_limit")
    with pytest.raises(IllegalTransition):
        flows.settle(db, movement_id=top_up.id, outcome="credited", ctx=ctx())
    assert (top_up.status, top_up.status_reason, account.balance_fen) == ("failed", "card_limit", 0)
    assert_consistent(db)


def test_same_key_returns_the_first_result_and_moves_money_once(db: Session) -> None:
    payer, payee = funded_account(db, "300.00"), funded_account(db)
    key = ctx("transfer-1")
    first = flows.transfer(
        db, account_id=payer.id, to_account_id=payee.id, amount_fen=100_00, currency="CNY", ctx=key
    )
    again = flows.transfer(
        db, account_id=payer.id, to_account_id=payee.id, amount_fen=100_00, currency="CNY", ctx=key
    )
    assert again.id == first.id
    assert (payer.balance_fen, payee.balance_fen) == (200_00, 100_00)
    with pytest.raises(IdempotencyConflict):
        flows.transfer(
            db,
            account_id=payer.id,
            to_account_id=payee.id,
            amount_fen=99_00,
            currency="CNY",
            ctx=key,
        )
    assert_consistent(db)


def test_overdraft_is_refused_and_leaves_nothing_behind(db: Session) -> None:
    account = funded_account(db, "50.00")
    movements = db.scalar(select(func.count()).select_from(Movement))
    with pytest.raises(InsufficientFunds):
        flows.pay(
            db,
            account_id=account.id,
            merchant="美团",
            amount_fen=50_01,
            currency="CNY",
            outcome="succeeded",
            ctx=ctx("pay-too-much"),
        )
    assert db.scalar(select(func.count()).select_from(Movement)) == movements
    assert account.balance_fen == 50_00
    # the refused attempt did not use up its key
    flows.pay(
        db,
        account_id=account.id,
        merchant="美团",
        amount_fen=50_00,
        currency="CNY",
        outcome="succeeded",
        ctx=ctx("pay-too-much"),
    )
    with pytest.raises(IdempotencyConflict):
        flows.pay(
            db,
            account_id=account.id,
            merchant="美团",
            amount_fen=50_01,
            currency="CNY",
            outcome="succeeded",
            ctx=ctx("pay-too-much"),
        )
    assert account.balance_fen == 0
    assert_consistent(db)


def test_database_refuses_a_negative_balance_even_past_the_rules(db: Session) -> None:
    account = funded_account(db)
    with pytest.raises(Exception, match=r"(?i)check|constraint"), db.begin_nested():
        db.execute(
            text("UPDATE wallet_account SET balance_fen = -1 WHERE id = :id"), {"id": account.id}
        )


def test_deducted_but_failed_payment_is_reversed_once(db: Session) -> None:
    account = funded_account(db, "200.00")
    payment = flows.pay(
        db,
        account_id=account.id,
        merchant="京东",
        amount_fen=80_00,
        currency="CNY",
        outcome="deducted_failed",
        ctx=ctx(),
        reason="merchant_timeout",
    )
    assert account.balance_fen == 120_00
    reversed_ = flows.reverse_payment(db, movement_id=payment.id, ctx=ctx(role="agent"))
    assert (reversed_.status, account.balance_fen) == ("reversed", 200_00)
    with pytest.raises(IllegalTransition):
        flows.reverse_payment(db, movement_id=payment.id, ctx=ctx())
    db.commit()  # audit rows are written when their transaction commits
    audited = db.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "wallet.reverse_payment")
    )
    assert audited == 1
    assert_consistent(db)


def test_held_transfer_arrives_or_returns(db: Session) -> None:
    payer, payee = funded_account(db, "500.00"), funded_account(db)
    held = flows.transfer(
        db,
        account_id=payer.id,
        to_account_id=payee.id,
        amount_fen=100_00,
        currency="CNY",
        ctx=ctx(),
        hold=True,
    )
    returned = flows.transfer(
        db,
        account_id=payer.id,
        to_account_id=payee.id,
        amount_fen=50_00,
        currency="CNY",
        ctx=ctx(),
        hold=True,
    )
    assert (payer.balance_fen, payee.balance_fen) == (350_00, 0)
    flows.settle(db, movement_id=held.id, outcome="arrived", ctx=ctx())
    flows.settle(db, movement_id=returned.id, outcome="returned", ctx=ctx(), reason="risk")
    assert (payer.balance_fen, payee.balance_fen) == (400_00, 100_00)
    assert_consistent(db)


def test_returned_withdrawal_gives_back_amount_and_fee(db: Session) -> None:
    account = funded_account(db, "1000.00")
    withdrawal = flows.withdraw(
        db,
        account_id=account.id,
        card_id=card_of(db, account.id).id,
        amount_fen=500_00,
        currency="CNY",
        ctx=ctx(),
    )
    assert withdrawal.fee_fen == 50
    assert account.balance_fen == 1000_00 - 500_00 - 50
    flows.settle(db, movement_id=withdrawal.id, outcome="returned", ctx=ctx(), reason="card_closed")
    assert account.balance_fen == 1000_00
    assert_consistent(db)


def test_refund_requested_rejected_then_approved_and_paid(db: Session) -> None:
    account = funded_account(db, "300.00")
    payment = flows.pay(
        db,
        account_id=account.id,
        merchant="携程",
        amount_fen=200_00,
        currency="CNY",
        outcome="succeeded",
        ctx=ctx(),
    )
    first = refunds.create_refund(
        db, payment_id=payment.id, amount_fen=200_00, reason="订单取消", ctx=ctx()
    )
    with pytest.raises(InvalidInput):
        refunds.decide_refund(db, refund_id=first.id, approve=False, reason=None, ctx=ctx())
    refunds.decide_refund(db, refund_id=first.id, approve=False, reason="已使用", ctx=ctx())
    again = refunds.create_refund(
        db, payment_id=payment.id, amount_fen=150_00, reason="复核", ctx=ctx()
    )
    with pytest.raises(InvalidInput):
        refunds.create_refund(db, payment_id=payment.id, amount_fen=50_01, reason="x", ctx=ctx())
    refunds.decide_refund(db, refund_id=again.id, approve=True, reason=None, ctx=ctx())
    assert account.balance_fen == 100_00
    refunds.pay_refund(db, refund_id=again.id, ctx=ctx())
    assert (again.status, account.balance_fen) == ("paid", 250_00)
    assert_consistent(db)


def test_upheld_dispute_refunds_what_is_left(db: Session) -> None:
    account = funded_account(db, "300.00")
    payment = flows.pay(
        db,
        account_id=account.id,
        merchant="陌生商户",
        amount_fen=300_00,
        currency="CNY",
        outcome="succeeded",
        ctx=ctx(),
    )
    dispute = refunds.open_dispute(db, movement_id=payment.id, reason="非本人操作", ctx=ctx())
    with pytest.raises(Conflict):
        refunds.open_dispute(db, movement_id=payment.id, reason="again", ctx=ctx())
    with pytest.raises(IllegalTransition):
        refunds.decide_dispute(db, dispute_id=dispute.id, outcome="upheld", reason=None, ctx=ctx())
    refunds.decide_dispute(
        db, dispute_id=dispute.id, outcome="investigating", reason=None, ctx=ctx()
    )
    refunds.decide_dispute(db, dispute_id=dispute.id, outcome="upheld", reason="盗刷", ctx=ctx())
    assert dispute.refund_id is not None
    held = repo.get_refund(db, dispute.refund_id)
    assert (held.status, held.amount_fen) == ("requested", 300_00)  # the caller decides it
    refunds.decide_refund(db, refund_id=held.id, approve=True, reason=None, ctx=ctx())
    refund = refunds.pay_refund(db, refund_id=dispute.refund_id, ctx=ctx())
    assert (refund.amount_fen, account.balance_fen) == (300_00, 300_00)
    assert_consistent(db)


def test_five_wrong_passwords_lock_and_an_agent_unlocks(db: Session) -> None:
    account = funded_account(db)
    for _ in range(5):
        accounts.record_login(
            db, account_id=account.id, succeeded=False, device="iPhone", city="上海"
        )
    assert (account.status, account.status_reason) == ("locked", "wrong_passwords")
    with pytest.raises(IllegalTransition):
        accounts.unfreeze(db, account_id=account.id, ctx=ctx())
    accounts.unlock(db, account_id=account.id, ctx=ctx())
    assert (account.status, account.failed_login_count) == ("active", 0)
    assert_consistent(db)


def test_frozen_account_cannot_pay_until_unfrozen(db: Session) -> None:
    account = funded_account(db, "100.00")
    with pytest.raises(InvalidInput):
        accounts.freeze(db, account_id=account.id, reason="bored", ctx=ctx())
    accounts.freeze(db, account_id=account.id, reason="stolen", ctx=ctx())
    with pytest.raises(AccountNotActive):
        flows.pay(
            db,
            account_id=account.id,
            merchant="x",
            amount_fen=1,
            currency="CNY",
            outcome="succeeded",
            ctx=ctx(),
        )
    with pytest.raises(IllegalTransition):
        accounts.start_password_reset(db, account_id=account.id, ctx=ctx())
    accounts.unfreeze(db, account_id=account.id, ctx=ctx(role="supervisor"))
    flows.pay(
        db,
        account_id=account.id,
        merchant="x",
        amount_fen=1,
        currency="CNY",
        outcome="succeeded",
        ctx=ctx(),
    )
    db.commit()  # audit rows are written when their transaction commits
    actions = set(
        db.scalars(select(AuditEvent.action).where(AuditEvent.after.contains(account.id)))
    )
    assert {"wallet.freeze", "wallet.unfreeze"} <= actions
    assert_consistent(db)


def test_limits_wrong_currency_and_unknown_accounts_are_refused(db: Session) -> None:
    account = funded_account(db, "1000.00")
    accounts.set_limits(
        db, account_id=account.id, kind="payment", per_day_fen=300_00, per_txn_fen=200_00, ctx=ctx()
    )
    with pytest.raises(LimitExceeded):
        flows.pay(
            db,
            account_id=account.id,
            merchant="x",
            amount_fen=200_01,
            currency="CNY",
            outcome="succeeded",
            ctx=ctx(),
        )
    flows.pay(
        db,
        account_id=account.id,
        merchant="x",
        amount_fen=200_00,
        currency="CNY",
        outcome="succeeded",
        ctx=ctx(),
    )
    with pytest.raises(LimitExceeded):
        flows.pay(
            db,
            account_id=account.id,
            merchant="x",
            amount_fen=100_01,
            currency="CNY",
            outcome="succeeded",
            ctx=ctx(),
        )
    with pytest.raises(WrongCurrency):
        flows.pay(
            db,
            account_id=account.id,
            merchant="x",
            amount_fen=1,
            currency="USD",
            outcome="succeeded",
            ctx=ctx(),
        )
    with pytest.raises(WalletNotFound):
        flows.transfer(
            db,
            account_id=account.id,
            to_account_id="W-nobody",
            amount_fen=1,
            currency="CNY",
            ctx=ctx(),
        )
    with pytest.raises(InvalidInput):
        accounts.bind_card(
            db, account_id=account.id, bank="工商银行", card_type="debit", last4="6222021234567890"
        )
    assert_consistent(db)


def test_check_reports_a_tampered_balance_and_entry(db: Session) -> None:
    account = funded_account(db, "10.00")
    db.flush()
    db.execute(
        text("UPDATE wallet_account SET balance_fen = 999 WHERE id = :id"), {"id": account.id}
    )
    db.execute(
        text("UPDATE journal_entry SET amount_fen = amount_fen + 1 WHERE ledger_account = :id"),
        {"id": account.id},
    )
    report = check.run(db)
    assert not report.ok
    text_ = "\n".join(report.breaches)
    assert f"account {account.id}: cached 999 fen, entries say 1001" in text_
    assert "summing to 1 fen" in text_
    assert "journals" in text_  # the movement's journals no longer match its history
    assert report.totals_fen[ledger.BANK_CLEARING] <= -10_00
