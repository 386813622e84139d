"""``kefu kb load``: put the shipped FAQ articles into the database."""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(help="The help center's FAQ.", no_args_is_help=True)
console = Console()


@app.command("load")
def load_command() -> None:
    """Create the shipped articles that are missing; edited articles are left as they are."""
    from kefu.db import get_sessionmaker
    from kefu.kb import service

    with get_sessionmaker()() as db:
        created = service.load_shipped_articles(db)
        db.commit()
    console.print(f"FAQ articles created: {created}")
