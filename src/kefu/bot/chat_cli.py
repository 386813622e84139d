"""``kefu chat``: talk to the assistant in the terminal, for demos and trying flows.

The conversation is a real one (stored like any other, continued with ``--resume``); codes
go out through the configured SMS/e-mail adapter, so in demo mode read them with
``kefu outbox``.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.panel import Panel

console = Console()

EXIT_WORDS = {"/quit", "/exit", "/q"}


def chat_command(
    lang: Annotated[str, typer.Option(help="zh-CN or en.")] = "zh-CN",
    customer: Annotated[
        int | None,
        typer.Option(help="Act as this signed-in customer id (as the wallet app would)."),
    ] = None,
    resume: Annotated[
        str | None, typer.Option(help="Continue the conversation with this id.")
    ] = None,
) -> None:
    """Chat with the assistant; /quit ends. Quick replies can be typed as their number."""
    from kefu.bot import service
    from kefu.channels.senders import build_senders
    from kefu.chat import service as chat
    from kefu.config import get_settings
    from kefu.db import get_sessionmaker
    from kefu.errors import KefuError
    from kefu.i18n import normalise_lang
    from kefu.wallet.port import build_wallet

    language = normalise_lang(lang)
    if language is None:
        console.print(f"[red]unknown language {lang!r}: use zh-CN or en[/red]")
        raise typer.Exit(2)
    settings = get_settings()
    # the adapters, built once for the whole chat (a bad KEFU_*_BACKEND stops it here)
    senders, wallets = build_senders(settings), build_wallet(settings)
    with get_sessionmaker()() as db:
        wallet = wallets(db)
        try:
            if resume:
                conversation = chat.by_public_id(db, resume)
            else:
                conversation, first = service.start_conversation(
                    db,
                    settings=settings,
                    senders=senders,
                    wallet=wallet,
                    channel="cli",
                    language=language,
                    customer_id=customer,
                )
                db.commit()
                options = first[0].data.get("quick_replies", [])
                _show(first[0].text, [(q["label"], q["value"]) for q in options])
        except KefuError as error:
            db.rollback()
            console.print(f"[red]{error}[/red]")
            raise typer.Exit(2) from error
        console.print(f"[dim]conversation {conversation.public_id}[/dim]")
        choices: list[tuple[str, str]] = []
        while True:
            try:
                text = console.input("[bold cyan]> [/bold cyan]").strip()
            except (EOFError, KeyboardInterrupt):
                break
            if text in EXIT_WORDS:
                break
            if not text:
                continue
            if text.isdigit() and 1 <= int(text) <= len(choices) and len(text) < 3:
                text = choices[int(text) - 1][1]
            try:
                turn = service.respond(
                    db, conversation, text, settings=settings, senders=senders, wallet=wallet
                )
                db.commit()
            except KefuError as error:
                db.rollback()
                console.print(f"[red]{error}[/red]")
                continue
            choices = [(q.label, q.value) for q in turn.quick_replies]
            _show(turn.reply, choices, turn.intent, turn.confidence, turn.handoff)


def _show(
    text: str,
    choices: list[tuple[str, str]],
    intent: str | None = None,
    confidence: float | None = None,
    handoff: bool = False,
) -> None:
    body = text
    if choices:
        body += "\n\n" + "  ".join(f"[{n}] {label}" for n, (label, _) in enumerate(choices, 1))
    title = f"{intent} {confidence:.2f}" if intent is not None and confidence is not None else ""
    if handoff:
        title += " → person"
    console.print(Panel(body, title=title or None, title_align="right", border_style="green"))
