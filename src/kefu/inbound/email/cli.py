"""``kefu smtp`` (the inbound server on its own) and ``kefu mail`` (mail flagged for a person)."""

from __future__ import annotations

import threading
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Inbound mail flagged for a person.", no_args_is_help=True)
console = Console()


def smtp(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port.")] = None,
) -> None:
    """Run the inbound SMTP server (and, with KEFU_JOBS_INLINE=true, the job consumer)."""
    from kefu import jobs
    from kefu.config import get_settings
    from kefu.inbound.email.server import build_controller

    settings = get_settings()
    consumer = None
    if settings.jobs_inline:
        consumer = jobs.start_inline_consumer(jobs.get_queue(), workers=settings.jobs_workers)
    controller = build_controller(settings, host=host, port=port)
    controller.start()
    console.print(f"smtp listening on {controller.hostname}:{controller.port}")
    stop = threading.Event()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
        if consumer is not None:
            consumer.stop(graceful=True)


@app.command("failed")
def failed(
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many mails.")] = 50,
) -> None:
    """Mails that could not become case messages, newest first, with the reason."""
    from kefu.db import get_sessionmaker
    from kefu.inbound.email import intake
    from kefu.masking import mask_destination

    with get_sessionmaker()() as db:
        rows = intake.failed(db, limit=limit)
    table = Table(title=f"{len(rows)} failed mail(s)")
    for column in ("id", "received (UTC)", "from", "subject", "reason"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            str(row.id),
            row.received_at.strftime("%Y-%m-%d %H:%M:%S"),
            mask_destination(row.from_address) if row.from_address else "",
            row.subject or "",
            row.error or "",
        )
    console.print(table)


@app.command("retry")
def retry(mail_id: Annotated[int, typer.Argument(help="The failed mail's id.")]) -> None:
    """Process a failed mail again."""
    from kefu import jobs
    from kefu.db import get_sessionmaker
    from kefu.inbound.email import intake

    with get_sessionmaker()() as db:
        intake.retry(db, mail_id=mail_id)
        db.commit()
    jobs.enqueue("process_inbound_mail", mail_id)
    console.print(f"mail {mail_id} queued again")
