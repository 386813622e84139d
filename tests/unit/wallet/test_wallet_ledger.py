from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.errors import InvalidInput
from kefu.wallet import ledger
from kefu.wallet.errors import IllegalTransition, InvalidAmount, LimitExceeded, UnbalancedEntry


@pytest.mark.parametrize(
    ("value", "fen"),
    [("500", 500_00), ("0.01", 1), (Decimal("12.30"), 12_30), ("1.500", 1_50), (7, 7_00)],
)
def test_amounts_parse_to_fen(value: str | Decimal | int, fen: int) -> None:
    assert ledger.to_fen(value) == fen


@pytest.mark.parametrize("value", [0.1, "0", "-1", "1.001", "abc", "NaN", "1e20", True])
def test_bad_amounts_are_refused(value: object) -> None:
    with pytest.raises(InvalidAmount):
        ledger.to_fen(value)  # type: ignore[arg-type]


def test_format_has_two_places() -> None:
    assert (ledger.format_fen(50_000), ledger.format_fen(5)) == ("500.00", "0.05")


def test_illegal_transitions_are_refused() -> None:
    ledger.check_transition("topup", "pending", "credited")
    for subject, current, target in [
        ("topup", "failed", "credited"),
        ("refund", "rejected", "paid"),
        ("dispute", "opened", "upheld"),
        ("payment", None, "reversed"),
    ]:
        with pytest.raises(IllegalTransition):
            ledger.check_transition(subject, current, target)


def test_account_reasons_follow_the_status() -> None:
    ledger.check_account_reason("frozen", "stolen")
    with pytest.raises(InvalidInput):
        ledger.check_account_reason("locked", "stolen")


@given(amount=st.integers(1, ledger.MAX_AMOUNT_FEN), fee=st.integers(0, 10_000))
def test_every_allowed_transition_posts_a_balanced_journal(amount: int, fee: int) -> None:
    for subject, table in ledger.TRANSITIONS.items():
        for current, targets in table.items():
            for target in targets:
                lines = ledger.movement_lines(
                    subject,
                    current,
                    target,
                    account="W1",
                    amount_fen=amount,
                    fee_fen=fee,
                    counterparty_account="W2",
                )
                assert sum(line.amount_fen for line in lines) == 0


def test_unbalanced_lines_are_a_bug() -> None:
    with pytest.raises(UnbalancedEntry):
        ledger.balanced([ledger.Line("W1", 5), ledger.Line(ledger.FEES, -4)])


def test_fee_and_limits() -> None:
    assert (ledger.withdrawal_fee(1), ledger.withdrawal_fee(500_00)) == (10, 50)
    ledger.check_limit("payment", 100, used_today_fen=0, per_day_fen=100, per_txn_fen=100)
    with pytest.raises(LimitExceeded):
        ledger.check_limit("payment", 101, used_today_fen=0, per_day_fen=1000, per_txn_fen=100)
    with pytest.raises(LimitExceeded):
        ledger.check_limit("payment", 50, used_today_fen=60, per_day_fen=100, per_txn_fen=100)


def test_business_day_is_china_time() -> None:
    start = ledger.business_day_start(datetime(2026, 1, 1, 17, 0, tzinfo=UTC))
    assert start.astimezone(UTC) == datetime(2026, 1, 1, 16, 0, tzinfo=UTC)
