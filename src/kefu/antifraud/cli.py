"""``kefu antifraud``: check a value, load registry entries from a file, list the official
channels, show the look-up figures and forget old ones."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kefu.i18n import Lang

app = typer.Typer(
    help="Anti-fraud: official channel registry and scam look-ups.", no_args_is_help=True
)
console = Console()
LangOption = Annotated[str, typer.Option("--lang", help="zh-CN or en.")]


def _lang(value: str) -> Lang:
    from kefu.errors import InvalidInput
    from kefu.i18n import normalise_lang

    lang = normalise_lang(value)
    if lang is None:
        raise InvalidInput(f"unknown language {value!r}; use zh-CN or en")
    return lang


@app.command("verify")
def verify_command(
    value: Annotated[str, typer.Argument(help="A phone number, web address, e-mail or account.")],
    lang: LangOption = "zh-CN",
) -> None:
    """Say whether a value is ours, not ours or a reported scam (counted like any look-up)."""
    from kefu.antifraud import service
    from kefu.db import get_sessionmaker

    with get_sessionmaker()() as db:
        result = service.verify(db, value, lang=_lang(lang), client_key="cli")
        db.commit()
    console.print(
        f"{result.kind}: {result.value} → {result.verdict}", markup=False, highlight=False
    )
    console.print(result.reason, markup=False, highlight=False)
    console.print(result.advice, markup=False, highlight=False)


@app.command("load")
def load_command(
    file: Annotated[Path, typer.Argument(help="A JSON list of entries (see docs/antifraud.md).")],
) -> None:
    """Add registry entries from a file; entries already there are left as they are."""
    from kefu import audit
    from kefu.antifraud import service
    from kefu.db import get_sessionmaker

    with get_sessionmaker()() as db:
        added, skipped = service.load_registry_file(
            db, file, actor=audit.Actor(name="cli", role="admin")
        )
        db.commit()
    console.print(f"registry entries added: {added}, already present: {skipped}")


@app.command("channels")
def channels_command(lang: LangOption = "zh-CN") -> None:
    """The official channels, as Contact us shows them."""
    from kefu.antifraud import service
    from kefu.db import get_sessionmaker

    chosen = _lang(lang)
    table = Table("kind", "value", "label", "notes")
    with get_sessionmaker()() as db:
        for channel in service.contact_channels(db):
            table.add_row(channel.kind, channel.value, channel.label(chosen), channel.notes(chosen))
    console.print(table)


@app.command("lookups")
def lookups_command(
    days: Annotated[int, typer.Option(min=1, max=90, help="Days back, today included.")] = 7,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
) -> None:
    """The most-checked values; surging ones (a scam wave starting) first."""
    from kefu.antifraud import lookups
    from kefu.config import get_settings
    from kefu.db import get_sessionmaker, utcnow

    today = utcnow().astimezone(get_settings().tz).date()
    table = Table("value", "kind", "verdict", "today", "people today", f"{days} days", "surging")
    with get_sessionmaker()() as db:
        for trend in lookups.trends(db, today=today, days=days, limit=limit):
            table.add_row(
                trend.value,
                trend.kind,
                trend.verdict,
                str(trend.today),
                str(trend.clients_today),
                str(trend.total),
                "yes" if trend.surging else "",
            )
    console.print(table)


@app.command("prune-lookups")
def prune_command(
    keep_days: Annotated[int, typer.Option(min=1, max=3650, help="Days of figures to keep.")] = 90,
) -> None:
    """Forget look-up counts older than ``--keep-days``."""
    from kefu.antifraud import lookups
    from kefu.config import get_settings
    from kefu.db import get_sessionmaker, utcnow

    today = utcnow().astimezone(get_settings().tz).date()
    with get_sessionmaker()() as db:
        removed = lookups.prune(db, before=today - timedelta(days=keep_days - 1))
        db.commit()
    console.print(f"look-up days removed: {removed}")
