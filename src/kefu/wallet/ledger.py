"""The wallet's rules in plain Python: money parsing, allowed status changes, the journal
lines each change posts, limits and fees. No I/O, so every rule is unit-tested alone and
the consistency check replays exactly the rules the services apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from kefu.errors import InvalidInput
from kefu.wallet.errors import (
    IllegalTransition,
    InvalidAmount,
    LimitExceeded,
    UnbalancedEntry,
)

CURRENCY = "CNY"
MAX_AMOUNT_FEN = 100_000_000_00  # 100 million yuan: far above any limit, below int64 trouble
LOCK_AFTER_FAILED_LOGINS = 5
SUPERVISOR_REFUND_THRESHOLD_FEN = 500_00
# Limits and "today" follow the wallet company's business day in China (no daylight saving).
BUSINESS_TZ = timezone(timedelta(hours=8))

BANK_CLEARING = "house:bank_clearing"
MERCHANT_SETTLEMENT = "house:merchant_settlement"
REFUNDS_PAYABLE = "house:refunds_payable"
FEES = "house:fees"
TRANSIT = "house:transfers_in_transit"
HOUSE_ACCOUNTS = (BANK_CLEARING, MERCHANT_SETTLEMENT, REFUNDS_PAYABLE, FEES, TRANSIT)

ACCOUNT_REASONS: dict[str, frozenset[str]] = {
    "locked": frozenset({"wrong_passwords", "inactivity", "security_check"}),
    "frozen": frozenset({"customer_request", "stolen", "risk"}),
}

# Allowed status changes as data; ``None`` is "does not exist yet".
TRANSITIONS: dict[str, dict[str | None, frozenset[str]]] = {
    "account": {
        None: frozenset({"active"}),
        "active": frozenset({"locked", "frozen", "closed"}),
        "locked": frozenset({"active", "frozen"}),
        "frozen": frozenset({"active"}),
    },
    "topup": {
        None: frozenset({"pending"}),
        "pending": frozenset({"credited", "failed", "reversed"}),
        "credited": frozenset({"reversed"}),
    },
    "payment": {
        None: frozenset({"succeeded", "failed", "deducted_failed"}),
        "deducted_failed": frozenset({"reversed"}),
    },
    "transfer": {
        None: frozenset({"processing"}),
        "processing": frozenset({"arrived", "returned"}),
    },
    "withdrawal": {
        None: frozenset({"processing"}),
        "processing": frozenset({"arrived", "returned"}),
    },
    "refund": {
        None: frozenset({"requested"}),
        "requested": frozenset({"approved", "rejected"}),
        "approved": frozenset({"paid"}),
    },
    "dispute": {
        None: frozenset({"opened"}),
        "opened": frozenset({"investigating"}),
        "investigating": frozenset({"upheld", "declined"}),
    },
}

MOVEMENT_KINDS = ("topup", "payment", "transfer", "withdrawal")
LIMIT_KINDS = ("top_up", "transfer", "payment")
# Statuses whose amount counts towards today's limit: anything not refused or undone.
_COUNTS_TOWARDS_LIMIT = frozenset(
    {"pending", "credited", "succeeded", "deducted_failed", "processing", "arrived"}
)
LIMIT_KIND_OF_MOVEMENT = {
    "topup": "top_up",
    "payment": "payment",
    "transfer": "transfer",
    "withdrawal": "transfer",
}
DEFAULT_LIMITS_FEN: dict[str, tuple[int, int]] = {
    # kind: (per day, per transaction)
    "top_up": (50_000_00, 20_000_00),
    "transfer": (50_000_00, 20_000_00),
    "payment": (20_000_00, 5_000_00),
}


@dataclass(frozen=True)
class Line:
    account: str
    amount_fen: int


def balanced(lines: Sequence[Line]) -> Sequence[Line]:
    if len(lines) < 2 or sum(line.amount_fen for line in lines) != 0:
        raise UnbalancedEntry(lines)
    if any(line.amount_fen == 0 for line in lines):
        raise UnbalancedEntry(lines)
    return lines


def to_fen(value: Decimal | str | int) -> int:
    """Parse a positive amount with at most two decimal places. Floats are refused: 0.1
    has no exact binary form, and a wallet must not guess what was meant."""
    if isinstance(value, bool | float):
        raise InvalidAmount("amounts must be decimals, not floats", amount=str(value))
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError) as exc:
        raise InvalidAmount("not a number", amount=str(value)) from exc
    if not amount.is_finite() or amount <= 0:
        raise InvalidAmount("amounts must be positive", amount=str(value))
    if amount * 100 > MAX_AMOUNT_FEN:
        raise InvalidAmount("amount too large", amount=str(value))
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidAmount("at most two decimal places", amount=str(value))
    return int(amount * 100)


def to_yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def format_fen(fen: int) -> str:
    return f"{to_yuan(fen):.2f}"


def check_transition(subject: str, current: str | None, target: str) -> None:
    if target not in TRANSITIONS[subject].get(current, frozenset()):
        raise IllegalTransition(
            f"{subject} cannot go from {current} to {target}",
            subject=subject,
            current=current or "-",
            target=target,
        )


def check_account_reason(status: str, reason: str | None) -> None:
    allowed = ACCOUNT_REASONS.get(status)
    if allowed is None:
        if reason is not None:
            raise IllegalTransition(
                f"{status} takes no reason", subject="account", current="-", target=status
            )
        return
    if reason not in allowed:
        raise InvalidInput(f"reason must be one of {sorted(allowed)}", field="reason")


def withdrawal_fee(amount_fen: int) -> int:
    """0.1% of the amount, rounded up to the fen, at least 0.10 yuan."""
    return max(10, -(-amount_fen // 1000))


def movement_lines(
    kind: str,
    current: str | None,
    target: str,
    *,
    account: str,
    amount_fen: int,
    fee_fen: int = 0,
    counterparty_account: str | None = None,
) -> list[Line]:
    """The journal lines a status change posts; empty when no money moves."""
    a, fee = amount_fen, fee_fen
    lines: list[Line] = []
    if kind == "topup":
        if target == "credited":
            lines = [Line(account, a), Line(BANK_CLEARING, -a)]
        elif target == "reversed" and current == "credited":
            lines = [Line(account, -a), Line(BANK_CLEARING, a)]
    elif kind == "payment":
        if current is None and target in ("succeeded", "deducted_failed"):
            lines = [Line(account, -a), Line(MERCHANT_SETTLEMENT, a)]
        elif target == "reversed":
            lines = [Line(MERCHANT_SETTLEMENT, -a), Line(account, a)]
    elif kind == "transfer":
        if target == "processing":
            lines = [Line(account, -a), Line(TRANSIT, a)]
        elif target == "arrived":
            assert counterparty_account is not None
            lines = [Line(TRANSIT, -a), Line(counterparty_account, a)]
        elif target == "returned":
            lines = [Line(TRANSIT, -a), Line(account, a)]
    elif kind == "withdrawal":
        if target == "processing":
            lines = [Line(account, -(a + fee)), Line(BANK_CLEARING, a)]
            lines += [Line(FEES, fee)] if fee else []
        elif target == "returned":
            lines = [Line(BANK_CLEARING, -a), Line(account, a + fee)]
            lines += [Line(FEES, -fee)] if fee else []
    elif kind == "refund":
        if target == "approved":
            lines = [Line(MERCHANT_SETTLEMENT, -a), Line(REFUNDS_PAYABLE, a)]
        elif target == "paid":
            lines = [Line(REFUNDS_PAYABLE, -a), Line(account, a)]
    return list(balanced(lines)) if lines else []


def business_day_start(now: datetime) -> datetime:
    local = now.astimezone(BUSINESS_TZ)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def counts_towards_limit(status: str) -> bool:
    return status in _COUNTS_TOWARDS_LIMIT


def check_limit(
    kind: str, amount_fen: int, *, used_today_fen: int, per_day_fen: int, per_txn_fen: int
) -> None:
    if amount_fen > per_txn_fen:
        raise LimitExceeded(
            f"{kind} above the per-transaction limit",
            kind=kind,
            period="per_txn",
            limit=format_fen(per_txn_fen),
        )
    if used_today_fen + amount_fen > per_day_fen:
        raise LimitExceeded(
            f"{kind} above the daily limit",
            kind=kind,
            period="per_day",
            limit=format_fen(per_day_fen),
        )


def needs_supervisor(
    refund_amount_fen: int, threshold_fen: int = SUPERVISOR_REFUND_THRESHOLD_FEN
) -> bool:
    """Deciding a refund above the threshold is a risky action a supervisor approves."""
    return refund_amount_fen > threshold_fen
