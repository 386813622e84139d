"""``kefu wallet``: prove the ledger (``check``) and look at one account (``show``).

A failed check exits 1; a domain error (unknown account) exits 2 through ``kefu.cli.main``.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kefu.wallet import ledger

app = typer.Typer(help="The built-in wallet.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)


@app.command("check")
def check_command() -> None:
    """Recompute every balance from its entries, prove every journal balances and every
    status history is legal; print the totals; exit 1 on any breach."""
    from kefu.db import get_sessionmaker
    from kefu.wallet import check

    with get_sessionmaker()() as db:
        report = check.run(db)
    table = Table(title="wallet ledger")
    table.add_column("ledger account")
    table.add_column("balance (CNY)", justify="right")
    for account, fen in report.totals_fen.items():
        table.add_row(account, ledger.format_fen(fen))
    console.print(table)
    console.print(", ".join(f"{name}: {count}" for name, count in report.counts.items()))
    if report.ok:
        console.print("wallet ledger consistent")
        return
    for breach in report.breaches:
        err_console.print(f"BREACH {breach}", markup=False, highlight=False)
    err_console.print(f"wallet ledger BROKEN: {report.breach_count} breach(es)", markup=False)
    raise typer.Exit(1)


@app.command("show")
def show(
    account: Annotated[str, typer.Argument(help="Account id, phone number or e-mail.")],
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many transactions.")] = 10,
) -> None:
    """One account's state, balance and latest transactions, as an agent sees them."""
    from kefu.config import get_settings
    from kefu.db import get_sessionmaker
    from kefu.wallet.errors import WalletNotFound
    from kefu.wallet.port import build_wallet
    from kefu.wallet.schemas import TransactionFilter

    wallets = build_wallet(get_settings())  # built once for the command
    with get_sessionmaker()() as db:
        wallet = wallets(db)
        lookup = (
            {"email": account}
            if "@" in account
            else {"phone": account}
            if account.lstrip("+").isdigit()
            else {"account_id": account}
        )
        found = wallet.find_account(**lookup)
        if found is None:
            raise WalletNotFound("no such wallet account", what="account", ref=account)
        moves = wallet.list_transactions(found.account_id, TransactionFilter(limit=limit))
    reason = f" ({found.status_reason})" if found.status_reason else ""
    console.print(
        f"{found.account_id}  {found.name}  {found.phone_masked}  "
        f"{found.status}{reason}  balance {found.balance:.2f} {found.currency}",
        markup=False,
    )
    table = Table()
    for column in ("id", "created (UTC)", "kind", "in/out", "amount", "status", "counterparty"):
        table.add_column(column)
    for move in moves:
        status = f"{move.status} ({move.status_reason})" if move.status_reason else move.status
        table.add_row(
            move.id,
            move.created_at.strftime("%Y-%m-%d %H:%M"),
            move.kind,
            move.direction,
            f"{move.amount:.2f}",
            status,
            move.counterparty,
        )
    console.print(table)
