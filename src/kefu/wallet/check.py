"""``kefu wallet check``: prove the ledger from its rows, not from the code that wrote them.

It recomputes every balance from the entries, proves every journal sums to zero, replays
every recorded status change against the transition table, and replays the posting rules
along each recorded path to prove the journals of every movement and refund are exactly
what its history says should have moved. Work is done in id-ordered chunks so millions of
rows fit in memory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from kefu.errors import KefuError
from kefu.wallet import ledger
from kefu.wallet.errors import IllegalTransition
from kefu.wallet.models import (
    Dispute,
    JournalEntry,
    JournalTransaction,
    Movement,
    Refund,
    StateChange,
    WalletAccount,
)

CHUNK = 20_000
MAX_LISTED = 50  # breaches listed in full; the count is always exact


@dataclass
class CheckReport:
    counts: dict[str, int] = field(default_factory=dict)
    totals_fen: dict[str, int] = field(default_factory=dict)
    breach_count: int = 0
    breaches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.breach_count == 0

    def breach(self, text: str) -> None:
        self.breach_count += 1
        if len(self.breaches) < MAX_LISTED:
            self.breaches.append(text)


def run(db: Session) -> CheckReport:
    report = CheckReport()
    _journals(db, report)
    _balances(db, report)
    _replay(db, report, WalletAccount, StateChange.account_id, None, _account_subject)
    _replay(
        db,
        report,
        Movement,
        StateChange.movement_id,
        JournalTransaction.movement_id,
        _movement_subject,
    )
    _replay(
        db, report, Refund, StateChange.refund_id, JournalTransaction.refund_id, _refund_subject
    )
    _replay(db, report, Dispute, StateChange.dispute_id, None, _dispute_subject)
    return report


def _journals(db: Session, report: CheckReport) -> None:
    report.counts["journals"] = db.scalar(select(func.count()).select_from(JournalTransaction)) or 0
    report.counts["entries"] = db.scalar(select(func.count()).select_from(JournalEntry)) or 0
    with_entries = db.scalar(select(func.count(func.distinct(JournalEntry.journal_id)))) or 0
    if with_entries != report.counts["journals"]:
        report.breach(f"{report.counts['journals'] - with_entries} journal(s) without entries")
    unbalanced = db.execute(
        select(JournalEntry.journal_id, func.sum(JournalEntry.amount_fen), func.count())
        .group_by(JournalEntry.journal_id)
        .having((func.sum(JournalEntry.amount_fen) != 0) | (func.count() < 2))
    )
    for journal_id, total, lines in unbalanced:
        report.breach(f"journal {journal_id}: {lines} entries summing to {total} fen")


def _balances(db: Session, report: CheckReport) -> None:
    derived: dict[str, int] = {
        account: int(total)
        for account, total in db.execute(
            select(JournalEntry.ledger_account, func.sum(JournalEntry.amount_fen)).group_by(
                JournalEntry.ledger_account
            )
        )
    }
    customers_total = 0
    count = 0
    for account_id, cached in db.execute(select(WalletAccount.id, WalletAccount.balance_fen)):
        count += 1
        entries = derived.pop(account_id, 0)
        customers_total += entries
        if entries != cached:
            report.breach(f"account {account_id}: cached {cached} fen, entries say {entries}")
        if entries < 0:
            report.breach(f"account {account_id}: negative balance {entries} fen")
    report.counts["accounts"] = count
    for house in ledger.HOUSE_ACCOUNTS:
        report.totals_fen[house] = derived.pop(house, 0)
    report.totals_fen["customer wallets"] = customers_total
    for unknown, total in derived.items():
        report.breach(f"entries on unknown ledger account {unknown!r} ({total} fen)")
    if sum(report.totals_fen.values()) + sum(derived.values()) != 0:
        report.breach("the ledger as a whole does not sum to zero")


# A subject adapter returns (transition table name, posting function or None).
LinesOf = Callable[[str | None, str], list[ledger.Line]]
Subject = Callable[[Any], tuple[str, LinesOf | None]]


def _movement_subject(row: Movement) -> tuple[str, LinesOf | None]:
    def lines(current: str | None, target: str) -> list[ledger.Line]:
        return ledger.movement_lines(
            row.kind,
            current,
            target,
            account=row.account_id,
            amount_fen=row.amount_fen,
            fee_fen=row.fee_fen,
            counterparty_account=row.counterparty_account_id,
        )

    return row.kind, lines


def _refund_subject(row: Refund) -> tuple[str, LinesOf | None]:
    def lines(current: str | None, target: str) -> list[ledger.Line]:
        return ledger.movement_lines(
            "refund", current, target, account=row.account_id, amount_fen=row.amount_fen
        )

    return "refund", lines


def _account_subject(row: WalletAccount) -> tuple[str, LinesOf | None]:
    return "account", None


def _dispute_subject(row: Dispute) -> tuple[str, LinesOf | None]:
    return "dispute", None


def _replay(
    db: Session,
    report: CheckReport,
    model: Any,
    change_fk: InstrumentedAttribute[Any],
    journal_fk: InstrumentedAttribute[Any] | None,
    subject_of: Subject,
) -> None:
    name = model.__tablename__
    report.counts[name] = 0
    last: Any = None
    while True:
        query = select(model).order_by(model.id).limit(CHUNK)
        if last is not None:
            query = query.where(model.id > last)
        rows = db.scalars(query).all()
        if not rows:
            return
        first, last = rows[0].id, rows[-1].id
        report.counts[name] += len(rows)
        paths: dict[Any, list[StateChange]] = defaultdict(list)
        for change in db.scalars(
            select(StateChange).where(change_fk.between(first, last)).order_by(StateChange.id)
        ):
            paths[getattr(change, change_fk.key)].append(change)
        actual: dict[Any, dict[str, int]] = defaultdict(dict)
        if journal_fk is not None:
            for owner, account, total in db.execute(
                select(journal_fk, JournalEntry.ledger_account, func.sum(JournalEntry.amount_fen))
                .join(JournalTransaction, JournalEntry.journal_id == JournalTransaction.id)
                .where(journal_fk.between(first, last))
                .group_by(journal_fk, JournalEntry.ledger_account)
            ):
                if total:
                    actual[owner][account] = int(total)
        for row in rows:
            _check_row(report, name, row, paths.get(row.id, []), actual.get(row.id, {}), subject_of)
        db.expunge_all()


def _check_row(
    report: CheckReport,
    name: str,
    row: Any,
    path: list[StateChange],
    actual: dict[str, int],
    subject_of: Subject,
) -> None:
    subject, lines_of = subject_of(row)
    expected: dict[str, int] = defaultdict(int)
    current: str | None = None
    for change in path:
        if change.from_status != current:
            report.breach(
                f"{name} {row.id}: change {change.id} starts from "
                f"{change.from_status}, status was {current}"
            )
        try:
            ledger.check_transition(subject, change.from_status, change.to_status)
        except IllegalTransition:
            report.breach(f"{name} {row.id}: illegal {change.from_status} -> {change.to_status}")
        if lines_of is not None:
            for line in lines_of(change.from_status, change.to_status):
                expected[line.account] += line.amount_fen
        current = change.to_status
    if current != row.status:
        report.breach(f"{name} {row.id}: status {row.status}, history ends at {current}")
    if subject == "account":
        try:
            ledger.check_account_reason(row.status, row.status_reason)
        except KefuError as exc:
            report.breach(f"{name} {row.id}: {row.status} with reason {row.status_reason}: {exc}")
    if lines_of is not None and {k: v for k, v in expected.items() if v} != actual:
        report.breach(f"{name} {row.id}: journals {actual} but its history posts {dict(expected)}")
