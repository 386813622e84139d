"""The ``kefu`` command. Each domain adds its own sub-commands here.

A domain error or bad argument prints one line and exits 2; a failed check exits 1.
"""

from __future__ import annotations

import sys
from typing import Annotated

import pydantic
import typer
from rich.console import Console

# Typer >= 0.26 vendors click; its usage errors live here.
from typer._click.exceptions import ClickException, NoArgsIsHelpError

from kefu import __version__
from kefu.antifraud import cli as antifraud_cli
from kefu.bot.chat_cli import chat_command
from kefu.bot.cli import nlu_app
from kefu.channels import cli as channels_cli
from kefu.errors import ConfigError, KefuError
from kefu.inbound.email import cli as email_cli
from kefu.kb import cli as kb_cli
from kefu.quality import cli as quality_cli
from kefu.voice import cli as voice_cli
from kefu.wallet import cli as wallet_cli

app = typer.Typer(
    name="kefu",
    help="Kefu (客服): customer service for digital wallets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
staff_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(audit_app, name="audit")
app.add_typer(staff_app, name="staff")
app.add_typer(nlu_app, name="nlu")
app.command("chat")(chat_command)
app.command("outbox")(channels_cli.outbox)
app.add_typer(wallet_cli.app, name="wallet")
app.command("smtp")(email_cli.smtp)
app.add_typer(email_cli.app, name="mail")
app.add_typer(kb_cli.app, name="kb")
app.command("report")(quality_cli.report)
app.add_typer(quality_cli.app, name="quality")
app.add_typer(antifraud_cli.app, name="antifraud")
app.add_typer(voice_cli.app, name="voice")

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    # soft_wrap: one line however narrow the terminal (Rich wraps at 80 columns in a pipe)
    err_console.print(f"kefu: {message}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        console.print(f"kefu {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Kefu (客服): customer service for digital wallets."""


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port.")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1, max=64, help="Web processes on the one port; more than one needs Redis."
        ),
    ] = None,
) -> None:
    """Serve the web app and API."""
    import uvicorn
    from fastapi import FastAPI

    from kefu.app import create_app, create_served_app
    from kefu.chat.bus import backend_of
    from kefu.config import get_settings
    from kefu.http_protocol import JoinedWritesProtocol
    from kefu.logging_config import server_log_config
    from kefu.websocket_protocol import LeanWebSocketProtocol

    settings = get_settings()
    processes = workers or settings.serve_workers
    if processes > 1 and backend_of(settings) != "redis":
        # each process would only see the chats of the sockets it holds itself
        raise fail("several web processes share live chat through Redis: set KEFU_REDIS_URL")
    if settings.env == "production":
        from kefu import migrate
        from kefu.db import get_engine

        if migrate.pending(get_engine()):
            raise fail("the database lacks its migrations: run `kefu db upgrade` first")
    # inbound mail first: a taken port stops start-up at once, before the model is trained
    controller = None
    if settings.smtp_server_enabled:
        from kefu.inbound.email.server import build_controller

        controller = build_controller(settings)
        try:
            controller.start()
        except OSError:  # the port is taken, or the address is not this machine's
            raise fail(
                f"inbound mail cannot listen on {settings.smtp_host}:{settings.smtp_port} "
                "(in use, or not an address of this machine): set KEFU_SMTP_PORT, or "
                "KEFU_SMTP_ENABLED=false"
            ) from None
    consumer = None
    processor = None
    try:
        if processes > 1:
            create_app(settings)  # a bad setting stops start-up here once, not in every process
            application: FastAPI | str = "kefu.app:create_served_app"
        else:
            application = create_served_app()
        # jobs and inbound mail run beside the web app unless production moved them out;
        # with several web processes they run once, in this one
        if settings.jobs_inline:
            from kefu import jobs

            consumer = jobs.start_inline_consumer(jobs.get_queue(), workers=settings.jobs_workers)
        if settings.deferred_inline:
            from kefu import deferred
            from kefu.db import get_sessionmaker

            processor = deferred.Processor(get_sessionmaker()).start()
        uvicorn.run(
            application,
            factory=processes > 1,
            workers=processes,
            host=host or settings.host,
            port=port or settings.port,
            log_level=settings.log_level.lower(),
            log_config=server_log_config(settings.log_level),
            proxy_headers=True,
            # chat frames are a few hundred bytes of JSON, which compression barely
            # shortens, while each socket's deflate state held ~45 KB (bench/chat.py)
            ws_per_message_deflate=False,
            ws=LeanWebSocketProtocol,
            http=JoinedWritesProtocol,  # an answer's head and body in one write
        )
    finally:
        if controller is not None:
            controller.stop()
        if consumer is not None:
            consumer.stop(graceful=True)
        if processor is not None:
            processor.stop()


@app.command()
def worker(
    workers: Annotated[int | None, typer.Option(min=1, max=64, help="Worker threads.")] = None,
) -> None:
    """Run background jobs and deferred work (production: KEFU_JOBS_BACKEND=redis,
    KEFU_JOBS_INLINE=false)."""
    import logging.config

    from kefu import deferred, jobs
    from kefu.channels.senders import build_senders
    from kefu.config import get_settings
    from kefu.db import get_sessionmaker
    from kefu.logging_config import worker_log_config

    settings = get_settings()
    if settings.jobs_backend == "immediate":
        raise fail("KEFU_JOBS_BACKEND=immediate runs jobs as they are queued; no worker needed")
    logging.config.dictConfig(worker_log_config(settings.log_level))
    # the adapters every job run of this process uses, built once here: a bad
    # KEFU_*_BACKEND stops the worker at start, not at its first job
    jobs.adapter(build_senders)
    processor = deferred.Processor(get_sessionmaker()).start()
    try:
        jobs.run_worker(jobs.get_queue(), workers=workers or settings.jobs_workers)
    finally:
        processor.stop()


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply database migrations."""
    from alembic.util import CommandError

    from kefu import migrate
    from kefu.db import get_engine

    try:
        migrate.upgrade(get_engine(), revision)
    except CommandError as exc:
        raise fail(str(exc)) from exc
    console.print(f"database at {revision}")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit trail's hash chain; exit 1 if any row was changed or removed."""
    from kefu import audit
    from kefu.db import get_sessionmaker

    with get_sessionmaker()() as db:
        report = audit.verify_chain(db)
    if report.ok:
        console.print(f"audit chain intact: {report.rows} rows")
        return
    err_console.print(
        f"audit chain BROKEN at row {report.first_break_id}: {report.reason}",
        markup=False,
    )
    raise typer.Exit(1)


@staff_app.command("create")
def staff_create(
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option(help="agent | specialist | supervisor | admin")],
    display_name: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create a staff user; the password is asked for, never taken on the command line."""
    from kefu.db import get_sessionmaker
    from kefu.identity import service

    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with get_sessionmaker()() as db:
        user = service.create_staff(
            db, username=username, password=password, role=role, display_name=display_name
        )
        db.commit()
        console.print(f"created {user.username} ({user.role})")


@demo_app.command("seed")
def demo_seed(
    once: Annotated[bool, typer.Option(help="Do nothing if demo data already exist.")] = False,
    customers: Annotated[
        int, typer.Option(min=0, max=1_000_000, help="Extra ordinary customers to add.")
    ] = 0,
) -> None:
    """Load the demo: one staff user per role and a customer for every problem."""
    from kefu import demo
    from kefu.config import get_settings
    from kefu.db import get_sessionmaker

    if get_settings().env == "production":
        raise fail("demo data are refused when KEFU_ENV=production")
    with get_sessionmaker()() as db:
        if once and demo.already_seeded(db):
            console.print("demo data already loaded")
            return
        summary = demo.seed(db, extra_customers=customers, console=console)
    console.print(summary)


def main() -> None:
    """Entry point: domain errors and bad arguments become one line and exit code 2."""
    try:
        # without standalone mode an Exit raised by a command comes back as its code
        result = app(standalone_mode=False)
        sys.exit(result if isinstance(result, int) else 0)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("kefu: aborted")
        sys.exit(2)
    except NoArgsIsHelpError as exc:
        # the help text itself is what the user needs here
        if exc.ctx is not None:
            console.print(exc.ctx.get_help(), markup=False, highlight=False)
        sys.exit(2)
    except ClickException as exc:
        lines = exc.format_message().strip().splitlines()
        err_console.print(f"kefu: {lines[0] if lines else exc}", markup=False)
        sys.exit(2)
    except KefuError as exc:
        err_console.print(f"kefu: {exc.detail or exc.code}", markup=False)
        sys.exit(2)
    except ConfigError as exc:
        err_console.print(f"kefu: configuration: {exc}", markup=False)
        sys.exit(2)
    except pydantic.ValidationError as exc:
        # pydantic-settings refusing a KEFU_* variable
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        err_console.print(f"kefu: configuration: {problems}", markup=False)
        sys.exit(2)
