"""Months of ordinary wallet history, written in bulk.

Rows are planned in Python with the same posting rules the services use
(``ledger.movement_lines``), then inserted with one multi-row statement per table and
batch, so 100,000 customers and millions of entries load in minutes and still pass
``kefu wallet check``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from kefu.wallet import accounts, ledger
from kefu.wallet.models import (
    BankCard,
    JournalEntry,
    JournalTransaction,
    LoginEvent,
    Movement,
    StateChange,
    WalletAccount,
)

BANKS = ("招商银行", "工商银行", "建设银行", "中国银行", "农业银行", "交通银行")
MERCHANTS = (
    "美团外卖",
    "京东商城",
    "滴滴出行",
    "星巴克",
    "盒马鲜生",
    "中国移动",
    "携程旅行",
    "国家电网",
    "淘宝",
    "12306 铁路",
)
DEVICES = ("iPhone 15", "HUAWEI Mate 60", "Xiaomi 14", "OPPO Find X7", "vivo X100")
CITIES = ("上海", "北京", "广州", "深圳", "杭州", "成都", "武汉", "南京")


@dataclass
class Plan:
    """Rows for one batch of customers; movements carry their transitions until inserted."""

    accounts: list[dict[str, Any]] = field(default_factory=list)
    cards: list[dict[str, Any]] = field(default_factory=list)
    logins: list[dict[str, Any]] = field(default_factory=list)
    movements: list[tuple[dict[str, Any], list[tuple[str | None, str, datetime]]]] = field(
        default_factory=list
    )


def plan_account(
    plan: Plan, *, account_id: str, name: str, phone: str, email: str, created: datetime
) -> None:
    plan.accounts.append(
        {
            "id": account_id,
            "name": name,
            "phone": phone,
            "email": email,
            "currency": ledger.CURRENCY,
            "status": "active",
            "status_reason": None,
            "status_changed_at": created,
            "balance_fen": 0,
            "failed_login_count": 0,
            "created_at": created,
            **accounts.default_limit_columns(),
        }
    )


def plan_history(
    plan: Plan,
    rng: random.Random,
    *,
    account_id: str,
    others: list[tuple[str, str]],
    start: datetime,
    days: int,
    balances: dict[str, int],
) -> None:
    """A credited first top-up, then a few months of payments, top-ups, transfers and
    withdrawals; outflows never exceed what the customer has put in."""
    city, device, bank = rng.choice(CITIES), rng.choice(DEVICES), rng.choice(BANKS)
    card = {
        "account_id": account_id,
        "bank": bank,
        "card_type": "debit",
        "last4": f"{rng.randrange(10_000):04d}",
        "bound_at": start,
    }
    plan.cards.append(card)
    moments = sorted(
        start + timedelta(minutes=rng.randrange(days * 24 * 60)) for _ in range(rng.randint(8, 24))
    )
    for n in range(3):
        plan.logins.append(
            {
                "account_id": account_id,
                "succeeded": True,
                "device": device,
                "city": city,
                "at": max(start, moments[-1] - timedelta(days=7 * n)),
            }
        )
    own = 0
    for index, at in enumerate(moments):
        roll = rng.random()
        if index == 0 or roll < 0.2 or own < 50_00:
            amount = rng.randrange(200, 3000) * 100
            _move(
                plan,
                "topup",
                account_id,
                f"{bank} {card['last4']}",
                amount,
                at,
                ["pending", "credited"],
                card=card,
            )
            own += amount
            continue
        amount = rng.randrange(100, max(101, min(own, 800_00)))
        fee = ledger.withdrawal_fee(amount)
        if roll < 0.7:
            status = "failed" if rng.random() < 0.05 else "succeeded"
            _move(
                plan,
                "payment",
                account_id,
                rng.choice(MERCHANTS),
                amount,
                at,
                [status],
                reason="merchant_declined" if status == "failed" else None,
            )
            own -= amount if status == "succeeded" else 0
        elif roll < 0.9 and others:
            target, target_name = rng.choice(others)
            if target == account_id:
                continue
            _move(
                plan,
                "transfer",
                account_id,
                target_name,
                amount,
                at,
                ["processing", "arrived"],
                to_account=target,
            )
            own -= amount
            balances[target] = balances.get(target, 0) + amount
        elif own >= amount + fee:
            _move(
                plan,
                "withdrawal",
                account_id,
                f"{bank} {card['last4']}",
                amount,
                at,
                ["processing", "arrived"],
                card=card,
                fee=fee,
            )
            own -= amount + fee
    balances[account_id] = balances.get(account_id, 0) + own


def _move(
    plan: Plan,
    kind: str,
    account_id: str,
    label: str,
    amount: int,
    at: datetime,
    path: list[str],
    *,
    reason: str | None = None,
    to_account: str | None = None,
    card: dict[str, Any] | None = None,
    fee: int = 0,
) -> None:
    row = {
        "kind": kind,
        "account_id": account_id,
        "counterparty": label,
        "counterparty_account_id": to_account,
        "card": card,
        "amount_fen": amount,
        "fee_fen": fee,
        "currency": ledger.CURRENCY,
        "status": path[-1],
        "status_reason": reason,
        "created_at": at,
        "updated_at": at,
    }
    steps: list[tuple[str | None, str, datetime]] = []
    current: str | None = None
    for n, target in enumerate(path):
        steps.append((current, target, at + timedelta(minutes=n)))
        current = target
    plan.movements.append((row, steps))


def _next_id(db: Session, model: Any) -> int:
    return int(db.scalar(select(func.max(model.id))) or 0) + 1


def _insert(db: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Plain multi-row insert with ids chosen here: RETURNING many rows costs far more."""
    if rows:
        db.execute(insert(model.__table__), rows)


def write(db: Session, plan: Plan) -> None:
    """Insert a planned batch; the caller is the only writer while the demo loads."""
    _insert(db, WalletAccount, plan.accounts)
    _insert(
        db,
        StateChange,
        [
            {
                "account_id": a["id"],
                "from_status": None,
                "to_status": "active",
                "at": a["created_at"],
            }
            for a in plan.accounts
        ],
    )
    card_id = _next_id(db, BankCard)
    for offset, card in enumerate(plan.cards):
        card["id"] = card_id + offset
    _insert(db, BankCard, plan.cards)
    _insert(db, LoginEvent, plan.logins)
    movement_id, journal_id = _next_id(db, Movement), _next_id(db, JournalTransaction)
    movements: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    journals: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    for row, steps in plan.movements:
        card = row["card"]
        movements.append(
            {
                **{k: v for k, v in row.items() if k != "card"},
                "id": movement_id,
                "card_id": card["id"] if card else None,
            }
        )
        for current, target, at in steps:
            changes.append(
                {
                    "movement_id": movement_id,
                    "from_status": current,
                    "to_status": target,
                    "reason": row["status_reason"] if target == row["status"] else None,
                    "at": at,
                }
            )
            lines = ledger.movement_lines(
                row["kind"],
                current,
                target,
                account=row["account_id"],
                amount_fen=row["amount_fen"],
                fee_fen=row["fee_fen"],
                counterparty_account=row["counterparty_account_id"],
            )
            if lines:
                journals.append(
                    {
                        "id": journal_id,
                        "movement_id": movement_id,
                        "memo": f"{row['kind']}:{target}",
                        "created_at": at,
                    }
                )
                entries.extend(
                    {
                        "journal_id": journal_id,
                        "ledger_account": line.account,
                        "amount_fen": line.amount_fen,
                    }
                    for line in lines
                )
                journal_id += 1
        movement_id += 1
    _insert(db, Movement, movements)
    _insert(db, StateChange, changes)
    _insert(db, JournalTransaction, journals)
    _insert(db, JournalEntry, entries)


def sync_sequences(db: Session) -> None:
    """Explicit ids leave PostgreSQL's sequences behind; move them past the loaded rows."""
    if db.get_bind().dialect.name != "postgresql":
        return
    for model in (BankCard, Movement, JournalTransaction, JournalEntry, StateChange, LoginEvent):
        table = model.__tablename__
        db.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - fixed names
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        )


def set_balances(db: Session, balances: dict[str, int]) -> None:
    """Write the cached balances the entries add up to (one statement per chunk)."""
    items = [{"id": account_id, "balance_fen": fen} for account_id, fen in balances.items()]
    for start in range(0, len(items), 10_000):
        db.execute(update(WalletAccount), items[start : start + 10_000])
