"""``kefu outbox``: the latest messages in the outbox table, for demos only (they hold codes)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kefu.errors import PermissionDenied


def outbox(
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many messages.")] = 20,
    to: Annotated[
        str | None, typer.Option("--to", help="Only messages to this phone or e-mail.")
    ] = None,
) -> None:
    """Show the latest SMS and e-mails sent, codes included (demo mode only)."""
    from kefu.channels import outbox as outbox_service
    from kefu.config import get_settings
    from kefu.db import get_sessionmaker
    from kefu.masking import mask_destination

    if not get_settings().demo:
        raise PermissionDenied("the outbox shows one-time codes; it needs KEFU_DEMO=true")
    with get_sessionmaker()() as db:
        messages = outbox_service.latest(db, limit=limit, to=to)
    table = Table(title=f"outbox: {len(messages)} latest", show_lines=True)
    for column in ("id", "sent (UTC)", "channel", "to", "purpose", "text"):
        table.add_column(column, overflow="fold")
    for message in messages:
        text = f"{message.subject}\n{message.body}" if message.subject else message.body
        table.add_row(
            str(message.id),
            message.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            f"{message.channel} ({message.backend})",
            mask_destination(message.destination),
            message.purpose,
            text,
        )
    Console().print(table)
