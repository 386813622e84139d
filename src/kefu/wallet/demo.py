"""Demo wallet: one customer for every problem in SPEC §3, plus ordinary customers with
months of history. Deterministic (seeded) so docs/demo.md can list who is who.

History is written in bulk; each problem is then produced by the real services, so the
demo shows exactly the states support will meet in production.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rich.console import Console
from rich.progress import Progress
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu import audit
from kefu.db import utcnow
from kefu.wallet import accounts, demo_history, flows, refunds
from kefu.wallet.idempotency import ActionContext
from kefu.wallet.models import (
    BankCard,
    JournalTransaction,
    LoginEvent,
    Movement,
    Refund,
    StateChange,
    WalletAccount,
)

SEED = 20261123
BASE_ORDINARY = 20
BATCH = 2_000
HISTORY_DAYS = 120
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛")
ENGLISH = ("Emily Chen", "David Wong", "Sarah Li", "Michael Zhang", "Grace Liu", "Tom Huang")


@dataclass(frozen=True)
class Holder:
    account_id: str
    name: str
    phone: str
    email: str
    language: str
    problem: str


def _ctx(name: str) -> ActionContext:
    return ActionContext(key=f"demo-{name}", actor=audit.Actor("system:demo", "system"))


def _card(db: Session, account_id: str) -> BankCard:
    card = db.query(BankCard).filter_by(account_id=account_id).first()
    assert card is not None
    return card


def _pay(
    db: Session,
    account_id: str,
    fen: int,
    outcome: str,
    tag: str,
    merchant: str = "京东商城",
    reason: str | None = None,
) -> Movement:
    return flows.pay(
        db,
        account_id=account_id,
        merchant=merchant,
        amount_fen=fen,
        currency="CNY",
        outcome=outcome,
        ctx=_ctx(tag),
        reason=reason,
    )


def _locked(db: Session, a: str) -> None:
    for _ in range(5):
        accounts.record_login(db, account_id=a, succeeded=False, device="iPhone 15", city="上海")


def _top_up(db: Session, a: str, fen: int, tag: str) -> Movement:
    return flows.start_top_up(
        db, account_id=a, card_id=_card(db, a).id, amount_fen=fen, currency="CNY", ctx=_ctx(tag)
    )


def _stuck_top_up(db: Session, a: str) -> None:
    _top_up(db, a, 500_00, "stuck-topup")


def _failed_top_up(db: Session, a: str) -> None:
    top_up = _top_up(db, a, 19_000_00, "limit-topup")
    flows.settle(
        db,
        movement_id=top_up.id,
        outcome="failed",
        reason="over_limit",
        ctx=_ctx("limit-topup-bank"),
    )


def _deducted(db: Session, a: str) -> None:
    _pay(db, a, 88_00, "deducted_failed", "deducted", "美团外卖", reason="merchant_timeout")


def _delayed_transfer(db: Session, a: str) -> None:
    flows.transfer(
        db,
        account_id=a,
        to_account_id=_ordinary(1),
        amount_fen=1_200_00,
        currency="CNY",
        ctx=_ctx("delayed-transfer"),
        hold=True,
    )


def _returned_withdrawal(db: Session, a: str) -> None:
    withdrawal = flows.withdraw(
        db,
        account_id=a,
        card_id=_card(db, a).id,
        amount_fen=300_00,
        currency="CNY",
        ctx=_ctx("withdrawal"),
    )
    flows.settle(
        db,
        movement_id=withdrawal.id,
        outcome="returned",
        reason="card_closed",
        ctx=_ctx("withdrawal-bank"),
    )


def _rejected_refund(db: Session, a: str) -> None:
    payment = _pay(db, a, 259_00, "succeeded", "refund-payment", "携程旅行")
    refund = refunds.create_refund(
        db, payment_id=payment.id, amount_fen=259_00, reason="酒店未入住", ctx=_ctx("refund")
    )
    refunds.decide_refund(
        db,
        refund_id=refund.id,
        approve=False,
        reason="non_refundable_rate",
        ctx=_ctx("refund-decision"),
    )


def _unauthorised(db: Session, a: str) -> None:
    accounts.record_login(db, account_id=a, succeeded=True, device="Unknown Android", city="昆明")
    _pay(db, a, 1_999_00, "succeeded", "unauthorised", "数码专营店")


def _suspicious_login(db: Session, a: str) -> None:
    accounts.record_login(db, account_id=a, succeeded=True, device="Windows PC", city="乌鲁木齐")


def _frozen(db: Session, a: str) -> None:
    accounts.freeze(db, account_id=a, reason="stolen", ctx=_ctx("freeze"))


def _refund_not_arrived(db: Session, a: str) -> None:
    payment = _pay(db, a, 120_00, "succeeded", "approved-payment", "淘宝")
    refund = refunds.create_refund(
        db, payment_id=payment.id, amount_fen=120_00, reason="退货", ctx=_ctx("approved-refund")
    )
    refunds.decide_refund(
        db, refund_id=refund.id, approve=True, reason=None, ctx=_ctx("approved-refund-decision")
    )


# phone suffix, name, language, problem, how the problem is made, and how long ago: each
# problem is back-dated so that a customer asking right after the seed meets the branch
# the problem is there to show (a top-up pending past KEFU_BOT_TOPUP_STUCK_MINUTES is
# traced, a transfer processing past KEFU_BOT_TRANSFER_STUCK_HOURS too; docs/demo.md)
PROBLEMS: tuple[tuple[str, str, str, Callable[[Session, str], None], timedelta], ...] = (
    ("张伟", "zh-CN", "account locked after 5 wrong passwords", _locked, timedelta(minutes=20)),
    (
        "李娜",
        "zh-CN",
        "top-up of 500.00 stuck pending at the bank",
        _stuck_top_up,
        timedelta(hours=2),
    ),
    (
        "王芳",
        "zh-CN",
        "top-up of 19,000.00 failed: over the limit",
        _failed_top_up,
        timedelta(hours=5),
    ),
    ("刘洋", "zh-CN", "payment of 88.00 deducted but failed", _deducted, timedelta(hours=3)),
    (
        "陈静",
        "zh-CN",
        "transfer of 1,200.00 delayed (processing)",
        _delayed_transfer,
        timedelta(hours=6),
    ),
    (
        "杨磊",
        "zh-CN",
        "withdrawal of 300.00 returned: card closed",
        _returned_withdrawal,
        timedelta(days=2),
    ),
    ("赵敏", "zh-CN", "refund of 259.00 rejected", _rejected_refund, timedelta(days=3)),
    (
        "黄强",
        "zh-CN",
        "unauthorised payment of 1,999.00 after a login in 昆明",
        _unauthorised,
        timedelta(hours=8),
    ),
    (
        "周婷",
        "zh-CN",
        "suspicious login from 乌鲁木齐 on a new device",
        _suspicious_login,
        timedelta(hours=1),
    ),
    ("吴斌", "zh-CN", "account frozen: reported stolen", _frozen, timedelta(days=1)),
    (
        "Emily Chen",
        "en",
        "refund of 120.00 approved, not yet arrived",
        _refund_not_arrived,
        timedelta(days=2),
    ),
)


def _back_date(db: Session, account_id: str, since: datetime, age: timedelta) -> None:
    """Move what the services wrote from ``since`` on (the problem, its funding, the other
    side of a transfer) ``age`` into the past, keeping its order."""
    db.flush()
    written: tuple[tuple[Any, tuple[str, ...]], ...] = (
        (Movement, ("created_at", "updated_at")),
        (Refund, ("created_at", "updated_at")),
        (JournalTransaction, ("created_at",)),
        (StateChange, ("at",)),
        (LoginEvent, ("at",)),
    )
    for model, columns in written:
        for row in db.scalars(select(model).where(getattr(model, columns[0]) >= since)):
            for column in columns:
                setattr(row, column, getattr(row, column) - age)
    account = db.get(WalletAccount, account_id)
    assert account is not None
    for column in ("status_changed_at", "last_login_at"):
        moment = getattr(account, column)
        if moment is not None and moment >= since:
            setattr(account, column, moment - age)
    db.flush()


def _account_id(index: int) -> str:
    return f"W{index:09d}"


def _ordinary(n: int) -> str:
    return _account_id(len(PROBLEMS) + n)


def _name(rng: random.Random, index: int) -> tuple[str, str]:
    if index % 10 == 0:
        return rng.choice(ENGLISH), "en"
    return rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.randint(1, 2))), "zh-CN"


def seed_accounts(
    db: Session, *, extra_customers: int = 0, console: Console | None = None
) -> list[Holder]:
    """Create the demo wallet; commits in batches and returns every account's holder."""
    rng = random.Random(SEED)  # noqa: S311 - demo data must repeat, not be secret
    total = len(PROBLEMS) + BASE_ORDINARY + extra_customers
    holders: list[Holder] = []
    for index in range(1, total + 1):
        if index <= len(PROBLEMS):
            name, language, problem, _make, _age = PROBLEMS[index - 1]
        else:
            (name, language), problem = _name(rng, index), "ordinary customer with history"
        holders.append(
            Holder(
                account_id=_account_id(index),
                name=name,
                phone=f"138{index:08d}",
                email=f"customer{index}@example.com",
                language=language,
                problem=problem,
            )
        )
    names = [(h.account_id, h.name) for h in holders]
    start = utcnow() - timedelta(days=HISTORY_DAYS)
    balances: dict[str, int] = {}
    with Progress(console=console, disable=console is None or total < BATCH) as progress:
        task = progress.add_task("wallet history", total=total)
        for first in range(0, total, BATCH):
            plan = demo_history.Plan()
            payees = names[: first + BATCH]
            for holder in holders[first : first + BATCH]:
                demo_history.plan_account(
                    plan,
                    account_id=holder.account_id,
                    name=holder.name,
                    phone=holder.phone,
                    email=holder.email,
                    created=start,
                )
                demo_history.plan_history(
                    plan,
                    rng,
                    account_id=holder.account_id,
                    others=payees,
                    start=start,
                    days=HISTORY_DAYS - 1,
                    balances=balances,
                )
            demo_history.write(db, plan)
            db.commit()
            progress.advance(task, len(plan.accounts))
    demo_history.set_balances(db, balances)
    demo_history.sync_sequences(db)
    db.commit()
    for holder, (_, _, _, make, age) in zip(holders, PROBLEMS, strict=False):
        since = utcnow()
        funding = _top_up(db, holder.account_id, 3_000_00, f"fund-{holder.account_id}")
        flows.settle(
            db,
            movement_id=funding.id,
            outcome="credited",
            ctx=_ctx(f"fund-bank-{holder.account_id}"),
        )
        make(db, holder.account_id)
        _back_date(db, holder.account_id, since, age)
    db.commit()
    return holders
