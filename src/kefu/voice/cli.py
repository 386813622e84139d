"""``kefu voice``: the menu tree, rendering a prompt to audio, recent calls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from kefu.errors import InvalidInput

app = typer.Typer(help="The phone hotline.", no_args_is_help=True)
menu_app = typer.Typer(help="The voice menu tree.", no_args_is_help=True)
app.add_typer(menu_app, name="menu")
console = Console()


def _session() -> Session:
    """A session with every domain's tables known (audit rows point at customers)."""
    from kefu.db import get_sessionmaker
    from kefu.models import import_all_models

    import_all_models()
    return get_sessionmaker()()


def _read_tree(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"cannot read {path}: {exc}") from exc


@menu_app.command("show")
def menu_show() -> None:
    """Print the live menu tree as JSON (publishes the shipped one if none exists)."""
    from kefu.voice import menu

    with _session() as db:
        row = menu.live(db)
        db.commit()
        console.print_json(json.dumps({"version": row.version, "tree": row.tree}))


@menu_app.command("check")
def menu_check(path: Annotated[Path, typer.Argument(help="A menu tree as JSON.")]) -> None:
    """Check a menu tree without publishing it; exit 2 and list the problems if any."""
    from kefu.voice import menu

    tree, problems = menu.check(_read_tree(path))
    if tree is None or problems:
        for problem in problems:
            console.print(f"- {problem}", markup=False, highlight=False)
        raise typer.Exit(2)
    console.print(f"menu holds: {len(tree.nodes)} nodes")


@menu_app.command("publish")
def menu_publish(
    path: Annotated[Path, typer.Argument(help="A menu tree as JSON.")],
    comment: Annotated[str | None, typer.Option(help="Why it changed.")] = None,
) -> None:
    """Check and publish a menu tree as the next version; running calls keep theirs."""
    from kefu import audit
    from kefu.voice import menu

    with _session() as db:
        row = menu.publish(db, _read_tree(path), actor=audit.Actor.system(), comment=comment)
        db.commit()
        console.print(f"menu version {row.version} is live")


@app.command("say")
def say(
    text: Annotated[str, typer.Argument(help="What to say, figures already in words.")],
    out: Annotated[Path, typer.Option(help="Where to write the WAV file.")],
    lang: Annotated[str, typer.Option(help="zh-CN or en.")] = "zh-CN",
    telephone: Annotated[
        bool, typer.Option(help="8 kHz μ-law, as a carrier plays it (needs sox).")
    ] = False,
) -> None:
    """Render a prompt with espeak-ng, as the hotline does for <Play>."""
    from kefu.config import get_settings
    from kefu.i18n import normalise_lang
    from kefu.voice import prompts

    chosen = normalise_lang(lang)
    if chosen is None:
        raise InvalidInput("--lang is zh-CN or en")
    rendered = prompts.render_text(get_settings(), text, chosen)
    if telephone:
        prompts.to_telephone_wav(rendered, out)
    else:
        out.write_bytes(rendered.read_bytes())
    console.print(f"wrote {out}")


@app.command("prune")
def prune() -> None:
    """Forget prompts unused for KEFU_VOICE_PROMPT_KEEP_DAYS, with their audio."""
    from kefu.config import get_settings
    from kefu.voice import prompts

    with _session() as db:
        removed = prompts.prune(db, get_settings())
        db.commit()
    console.print(f"prompts removed: {removed}")


@app.command("calls")
def calls(limit: Annotated[int, typer.Option(min=1, max=500)] = 20) -> None:
    """The latest calls: caller (masked), language, path, outcome, reference told."""
    from kefu.voice import calls as voice_calls

    with _session() as db:
        rows = voice_calls.list_calls(db, voice_calls.CallFilter(), limit=limit)
    table = Table("call", "caller", "lang", "path", "status", "outcome", "reference")
    for call in rows:
        table.add_row(
            call.call_sid,
            call.caller_masked,
            call.language or "",
            " > ".join(call.path),
            call.status,
            call.outcome or "",
            call.reference_told or "",
        )
    console.print(table)
