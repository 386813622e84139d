"""``kefu report`` (the figures for a period as CSV or JSON) and ``kefu quality …``."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="Service quality: rollups, surveys, staffing.", no_args_is_help=True)
console = Console()


def report(
    start: Annotated[str, typer.Option("--from", help="First day, e.g. 2026-03-01.")],
    end: Annotated[str, typer.Option("--to", help="Last day (included).")],
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    by: Annotated[
        str, typer.Option("--by", help="total, day, hour, channel, category, agent or team.")
    ] = "day",
    channel: Annotated[str | None, typer.Option(help="Only this channel.")] = None,
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    agent: Annotated[str | None, typer.Option(help="Only this agent (username).")] = None,
    team: Annotated[str | None, typer.Option(help="Only this team (staff role).")] = None,
    target: Annotated[
        float, typer.Option(help="Service-level target wait, seconds: 5, 10, 15, 20, 25, 30...")
    ] = 20.0,
) -> None:
    """The quality figures for a period, the same as the dashboard's."""
    from kefu.config import get_settings
    from kefu.db import get_sessionmaker, utcnow
    from kefu.errors import InvalidInput
    from kefu.identity import service as identity_service
    from kefu.quality import export, service

    if fmt not in ("csv", "json"):
        raise InvalidInput("--format is csv or json", field="format")
    settings = get_settings()
    now = utcnow()
    with get_sessionmaker()() as db:
        staff_id = None
        if agent:
            user = identity_service.get_staff_by_username(db, agent)
            if user is None:
                raise InvalidInput(f"no staff member {agent!r}", field="agent")
            staff_id = user.id
        query = service.make_query(
            start=start,
            end=end,
            today=now.astimezone(settings.tz).date(),
            channel=channel,
            category=category,
            staff_id=staff_id,
            team=team,
            target_seconds=target,
        )
        table = service.table(db, query, breakdown=by, settings=settings, now=now)
    if fmt == "json":
        typer.echo(json.dumps(export.as_json(table, query), ensure_ascii=False, indent=2))
    else:
        typer.echo(export.table_csv(table), nl=False)


@app.command("rebuild")
def rebuild_command() -> None:
    """Recompute every contact and all rollups from the recorded events."""
    from kefu.db import get_sessionmaker
    from kefu.quality import rebuild

    with get_sessionmaker()() as db:
        result = rebuild.rebuild_all(db)
        db.commit()
    console.print(f"contacts: {result.contacts}, events: {result.events}")


@app.command("surveys")
def surveys_command() -> None:
    """Send the surveys that are due, remind once, close the old ones (the job does this
    every minute)."""
    from kefu.quality import jobs

    result = jobs.run_surveys()
    console.print(
        f"sent: {len(result.sent)}, reminded: {len(result.reminded)}, "
        f"expired: {len(result.expired)}"
    )


@app.command("staffing")
def staffing_command(
    contacts: Annotated[float, typer.Option(help="Contacts per half hour.")],
    aht: Annotated[float, typer.Option(help="Average handle time, seconds.")],
    target: Annotated[float, typer.Option(help="Target wait, seconds.")] = 20.0,
    level: Annotated[float, typer.Option(help="Share answered within the target.")] = 0.8,
    shrinkage: Annotated[float, typer.Option(help="Share of paid time off contacts.")] = 0.0,
) -> None:
    """Agents needed for one half hour (Erlang C)."""
    from kefu.quality import staffing

    answer = staffing.agents_needed(
        staffing.Inputs(
            contacts=contacts,
            aht_seconds=aht,
            target_seconds=target,
            service_level=level,
            shrinkage=shrinkage,
        )
    )
    console.print(
        f"traffic {answer.traffic:.2f} Erlang; agents {answer.agents} "
        f"(scheduled {answer.scheduled}); service level {answer.service_level:.1%}; "
        f"average wait {answer.average_wait:.1f} s; occupancy {answer.occupancy:.1%}"
    )
