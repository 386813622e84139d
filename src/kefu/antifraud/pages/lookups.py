"""Look-up figures: which values people checked most over the last days, with a surge mark,
on a page and as CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from kefu.antifraud import service
from kefu.antifraud.pages.common import (
    KINDS,
    Supervisor,
    base,
    reason_of,
    today_of,
)
from kefu.config import Settings
from kefu.db import DbSession
from kefu.deps import SettingsDep
from kefu.errors import InvalidInput
from kefu.i18n import Lang, translate
from kefu.numbers import parse_ascii_int
from kefu.web.templating import render

router = APIRouter(prefix="/console/antifraud", include_in_schema=False)

DAY_CHOICES = (1, 7, 14, 30, 90)
MAX_DAYS = 90


@dataclass(frozen=True)
class Figures:
    today: date
    days: int
    kind: str
    trends: list[service.LookupTrend]

    @property
    def dates(self) -> list[date]:
        return [self.today - timedelta(days=n) for n in range(self.days - 1, -1, -1)]


def _figures(db: Session, settings: Settings, *, days: str, kind: str, day: str) -> Figures:
    """The figures asked for; InvalidInput names the filter that makes no sense."""
    day_count = parse_ascii_int(days, high=MAX_DAYS)
    if day_count is None:
        raise InvalidInput("days out of range", field="days", max=MAX_DAYS)
    try:
        today = date.fromisoformat(day.strip()) if day.strip() else today_of(settings)
    except ValueError as exc:
        raise InvalidInput("not a date", field="day") from exc
    chosen = kind if kind in KINDS else ""
    trends = service.lookup_trends(db, today=today, days=day_count, kind=chosen or None, limit=100)
    return Figures(today=today, days=day_count, kind=chosen, trends=trends)


FilterText = Annotated[str, Query(max_length=16)]


@router.get("/lookups")
def lookups_page(
    request: Request,
    staff: Supervisor,
    db: DbSession,
    settings: SettingsDep,
    days: FilterText = "7",
    kind: FilterText = "",
    day: FilterText = "",
) -> Response:
    lang: Lang = request.state.lang
    context = {
        **base(staff, "lookups"),
        "kinds": KINDS,
        "filters": {"days": days, "kind": kind, "day": day},
    }
    try:
        figures = _figures(db, settings, days=days, kind=kind, day=day)
    except InvalidInput as exc:
        return render(
            request,
            "antifraud/lookups.html",
            {**context, "figures": None, "day_choices": DAY_CHOICES, "error": reason_of(exc, lang)},
            status_code=exc.status,
        )
    query = {"days": figures.days, "kind": figures.kind, "day": figures.today.isoformat()}
    return render(
        request,
        "antifraud/lookups.html",
        {
            **context,
            "figures": figures,
            "day_choices": sorted({*DAY_CHOICES, figures.days}),
            "csv_query": urlencode(query),
        },
    )


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (a value typed by anyone
    who checked it, or a phone number starting with ``+``)."""
    text = str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.get("/lookups.csv")
def lookups_csv(
    request: Request,
    _: Supervisor,
    db: DbSession,
    settings: SettingsDep,
    days: FilterText = "7",
    kind: FilterText = "",
    day: FilterText = "",
) -> Response:
    lang: Lang = request.state.lang
    try:
        figures = _figures(db, settings, days=days, kind=kind, day=day)
    except InvalidInput as exc:
        return Response(
            reason_of(exc, lang), status_code=exc.status, media_type="text/plain; charset=utf-8"
        )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            translate(f"antifraud.web.csv.{name}", lang)
            for name in ("kind", "value", "verdict", "surging")
        ]
        + [d.isoformat() for d in figures.dates]
        + [
            translate(f"antifraud.web.csv.{name}", lang)
            for name in ("total", "today", "clients_today", "average")
        ]
    )
    for trend in figures.trends:
        writer.writerow(
            [
                trend.kind,
                _cell(trend.value),
                trend.verdict,
                "1" if trend.surging else "0",
                *(trend.by_day.get(d, 0) for d in figures.dates),
                trend.total,
                trend.today,
                trend.clients_today,
                f"{trend.previous_daily_average:.2f}",
            ]
        )
    name = f"antifraud-lookups-{figures.today.isoformat()}-{figures.days}d.csv"
    return Response(
        "\ufeff" + out.getvalue(),  # the mark lets spreadsheet programs read UTF-8
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )
