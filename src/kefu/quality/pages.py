"""The quality dashboard in the console (supervisors and admins): today live, trends with
charts, drill-down to the contacts behind a figure, and the staffing calculator. Every
table has a CSV download. Reviews, follow-ups and the survey settings are in
``review_pages``."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from kefu import paging
from kefu.cases.categories import Category
from kefu.config import Settings
from kefu.db import DbSession, utcnow
from kefu.deps import LangDep, SettingsDep
from kefu.errors import InvalidInput, KefuError
from kefu.i18n import Lang, translate
from kefu.identity import service as identity_service
from kefu.identity.deps import CSRF_FIELD, StaffPrincipal, require
from kefu.identity.permissions import Role
from kefu.numbers import parse_ascii_int
from kefu.quality import drill, events, export, live, metrics, service, staffing
from kefu.quality.routes import Filters
from kefu.web import forms
from kefu.web.templating import render

router = APIRouter(prefix="/console/quality", include_in_schema=False)
Reader = Annotated[StaffPrincipal, Depends(require("quality.read"))]
VENDOR_PATH: Final = "/vendor"
CHART_JS: Final = f"{VENDOR_PATH}/chart.js/chart.umd.min.js"
# the figures shown first, as cards; every figure is in the tables
KEY_FIGURES: Final = (
    "contacts",
    "service_level",
    "wait_avg",
    "wait_p90",
    "abandon_rate",
    "frt_avg",
    "resolution_rate",
    "fcr_rate",
    "csat",
    "sla_compliance",
)
LIVE_CHANNELS: Final = ("phone", "web", "app", "wechat")


def vendor_dir(settings: Settings) -> Path:
    if settings.vendor_dir:
        return Path(settings.vendor_dir)
    return Path(__file__).resolve().parents[3] / "node_modules"


def mount_vendor(app: FastAPI, settings: Settings) -> None:
    """Serve the chart library's built file from node_modules (installed by ``make``)."""
    app.mount(
        f"{VENDOR_PATH}/chart.js",
        StaticFiles(directory=vendor_dir(settings) / "chart.js" / "dist", check_dir=False),
        name="vendor-chartjs",
    )


def _base(staff: StaffPrincipal) -> dict[str, Any]:
    return {
        "staff": staff.user,
        "may": staff.may,
        "csrf_token": staff.token.csrf_token,
        "csrf_field": CSRF_FIELD,
        "chart_js": CHART_JS,
    }


def _choices(db: DbSession) -> dict[str, Any]:
    return {
        "channels": events.CHANNELS,
        "categories": [c.value for c in Category],
        "teams": [r.value for r in Role],
        "agents": [s for s in identity_service.list_staff(db) if s.is_active],
        "breakdowns": service.BREAKDOWNS[1:],
        "targets": metrics.TARGETS,
    }


def _figure_text(name: str, value: float | None) -> str:
    if value is None:
        return "—"
    unit = next(f.unit for f in metrics.FIGURES if f.name == name)
    if unit == "share":
        return f"{value * 100:.1f}%"
    if unit == "seconds":
        return f"{value:.0f} s" if value < 600 else f"{value / 60:.1f} min"
    if unit == "score":
        return f"{value:.2f}"
    return f"{value:.0f}"


def _params(request: Request, **changes: Any) -> str:
    """The page's query string with some parameters changed (None removes one)."""
    values = {k: v for k, v in request.query_params.items() if k not in changes}
    values.update({k: v for k, v in changes.items() if v is not None})
    return urlencode(values)


def _row_filter(breakdown: str, row: service.Row, staff_names: dict[int, str]) -> dict[str, Any]:
    """The filter that narrows a drill-down to one row of a table."""
    if breakdown == "day":
        return {"from": row.key.isoformat(), "to": row.key.isoformat()}
    if breakdown in ("channel", "category"):
        return {breakdown: row.key}
    if breakdown == "agent":
        return {"agent": staff_names.get(row.key, "")}
    if breakdown == "team":
        return {"team": row.key}
    return {}


def error_text(error: KefuError, lang: Lang) -> str:
    """The error's text and, for a bad field, which one: the page shows it by the form."""
    text = forms.error_text(error, lang)
    field = error.params.get("field")
    if field:
        text += " " + translate(f"quality.field.{field}", lang)
    return text


@router.get("")
def today(request: Request, staff: Reader, db: DbSession, settings: SettingsDep) -> Response:
    now = utcnow()
    found = live.live(db, settings=settings, now=now, target_seconds=service.DEFAULT_TARGET_SECONDS)
    today_day = now.astimezone(settings.tz).date().isoformat()
    return render(
        request,
        "quality/live.html",
        {
            **_base(staff),
            "live": found,
            "key_figures": KEY_FIGURES,
            "fmt": _figure_text,
            "today": today_day,
            "csv_query": urlencode({"from": today_day, "to": today_day, "by": "channel"}),
        },
    )


@router.get("/trends")
def trends(
    request: Request,
    staff: Reader,
    db: DbSession,
    settings: SettingsDep,
    lang: LangDep,
    by: Annotated[str, Query(max_length=10)] = "day",
) -> Response:
    error = None
    table = None
    query = None
    try:
        query = Filters(
            db,
            settings,
            start=request.query_params.get("from"),
            end=request.query_params.get("to"),
            channel=request.query_params.get("channel") or None,
            category=request.query_params.get("category") or None,
            agent=request.query_params.get("agent") or None,
            team=request.query_params.get("team") or None,
            target=_float(request.query_params.get("target")),
        ).query
        table = service.table(db, query, breakdown=by, settings=settings, now=utcnow())
    except KefuError as exc:
        error = error_text(exc, lang)
    staff_names = {s.id: s.username for s in identity_service.list_staff(db)}
    chart = None
    if table is not None:
        chart = {
            "labels": [row.label for row in table.rows],
            "contacts": [row.figures["contacts"] for row in table.rows],
            "service_level": [_pct(row.figures["service_level"]) for row in table.rows],
            "csat": [_pct(row.figures["csat"]) for row in table.rows],
            "resolution_rate": [_pct(row.figures["resolution_rate"]) for row in table.rows],
            "names": {
                name: translate(f"quality.figure.{name}", lang)
                for name in ("contacts", "service_level", "csat", "resolution_rate")
            },
        }
    return render(
        request,
        "quality/trends.html",
        {
            **_base(staff),
            **_choices(db),
            "error": error,
            "query": query,
            "by": by,
            "table": table,
            "chart": chart,
            "figures": metrics.FIGURE_NAMES,
            "key_figures": KEY_FIGURES,
            "drills": {f.name: f.drill for f in metrics.FIGURES},
            "fmt": _figure_text,
            "row_filter": lambda row: urlencode(
                {**_row_filter(by, row, staff_names), **_scope_params(request, by)}
            ),
            "scope_params": urlencode(_scope_params(request, None)),
            "csv_query": _params(request),
            "args": request.query_params,
        },
        status_code=400 if error else 200,
    )


def _scope_params(request: Request, breakdown: str | None) -> dict[str, str]:
    """The page's filters a drill-down keeps; a row's own dimension replaces its filter."""
    keep = ("from", "to", "channel", "category", "agent", "team", "target")
    drop = {"day": ("from", "to")}.get(breakdown or "", (breakdown,) if breakdown else ())
    return {k: v for k in keep if (v := request.query_params.get(k)) and k not in drop}


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def _float(value: str | None) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except ValueError:
        return -1.0  # refused by the query check with a clear message


@router.get("/drill")
def drill_page(
    request: Request,
    staff: Reader,
    db: DbSession,
    settings: SettingsDep,
    lang: LangDep,
    figure: Annotated[str, Query(max_length=30)] = "contacts",
    after: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    error = None
    rows: list[drill.DrillRow] = []
    next_cursor = None
    total = 0
    try:
        query = _filters(request, db, settings)
        read, total = drill.contacts(
            db, query, figure=figure, settings=settings, limit=drill.PAGE + 1, after=after
        )
        rows, next_cursor = drill.cut(read, drill.PAGE)
    except KefuError as exc:
        error = error_text(exc, lang)
    return render(
        request,
        "quality/drill.html",
        {
            **_base(staff),
            "error": error,
            "figure": figure,
            "rows": rows,
            "total": total,
            **paging.pager_links(request, after, next_cursor),
            "csv_query": _params(request, after=None),
            "args": request.query_params,
        },
        status_code=400 if error else 200,
    )


def _filters(request: Request, db: DbSession, settings: Settings) -> service.Query:
    return Filters(
        db,
        settings,
        start=request.query_params.get("from"),
        end=request.query_params.get("to"),
        channel=request.query_params.get("channel") or None,
        category=request.query_params.get("category") or None,
        agent=request.query_params.get("agent") or None,
        team=request.query_params.get("team") or None,
        target=_float(request.query_params.get("target")),
    ).query


@router.get("/drill.csv")
def drill_csv(
    request: Request,
    staff: Reader,
    db: DbSession,
    settings: SettingsDep,
    lang: LangDep,
    figure: Annotated[str, Query(max_length=30)] = "contacts",
) -> Response:
    query = _filters(request, db, settings)
    rows, _total = drill.contacts(
        db, query, figure=figure, settings=settings, limit=drill.MAX_EXPORT
    )
    return _csv(export.drill_csv(rows, lang=lang), f"drill-{figure}-{query.start}-{query.end}")


def _csv(text: str, name: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


# --- staffing ---------------------------------------------------------------------------


def _inputs(request: Request) -> staffing.Inputs:
    args = request.query_params

    def number(name: str, default: float | None) -> float | None:
        raw = args.get(name)
        if raw is None or raw == "":
            return default
        try:
            return float(raw)
        except ValueError:
            return -1.0  # refused by Inputs.check with the field named

    def required(name: str, default: float) -> float:
        value = number(name, default)
        return default if value is None else value

    level = required("level", 80.0)
    occupancy = number("max_occupancy", None)
    return staffing.Inputs(
        contacts=required("contacts", 100.0),
        aht_seconds=required("aht", 180.0),
        target_seconds=required("target", 20.0),
        service_level=level / 100,
        max_average_wait=number("max_wait", None),
        max_occupancy=None if occupancy is None else occupancy / 100,
        shrinkage=required("shrinkage", 30.0) / 100,
    )


def _plan(
    request: Request, db: DbSession, settings: Settings, inputs: staffing.Inputs
) -> tuple[date, list[str], int, list[staffing.PlanRow]]:
    args = request.query_params
    tomorrow = utcnow().astimezone(settings.tz).date() + timedelta(days=1)
    try:
        day = date.fromisoformat(args.get("day") or tomorrow.isoformat())
    except ValueError:
        raise InvalidInput("day must be a date like 2026-03-01", field="day") from None
    channels = [c for c in args.getlist("channel") if c in events.CHANNELS] or list(LIVE_CHANNELS)
    weeks_raw = args.get("weeks") or "4"
    weeks = parse_ascii_int(weeks_raw, low=0) or 0
    rows = staffing.plan(
        db,
        day=day,
        tz_name=settings.timezone,
        channels=tuple(channels),
        targets=inputs,
        weeks=weeks,
    )
    return day, channels, weeks, rows


@router.get("/staffing")
def staffing_page(
    request: Request, staff: Reader, db: DbSession, settings: SettingsDep, lang: LangDep
) -> Response:
    error = None
    answer = None
    plan: dict[str, Any] | None = None
    inputs = None
    try:
        inputs = _inputs(request)
        answer = staffing.agents_needed(inputs)
        day, channels, weeks, rows = _plan(request, db, settings, inputs)
        plan = {"day": day, "channels": channels, "weeks": weeks, "rows": rows}
    except KefuError as exc:
        error = error_text(exc, lang)
    chart = None
    if plan is not None:
        chart = {
            "labels": [row.start.strftime("%H:%M") for row in plan["rows"]],
            "contacts": [round(row.contacts, 1) for row in plan["rows"]],
            "agents": [row.answer.scheduled for row in plan["rows"]],
            "names": {
                "contacts": translate("quality.staffing.forecast", lang),
                "agents": translate("quality.staffing.scheduled", lang),
            },
        }
    return render(
        request,
        "quality/staffing.html",
        {
            **_base(staff),
            "error": error,
            "inputs": inputs,
            "answer": answer,
            "plan": plan,
            "chart": chart,
            "channels": events.CHANNELS,
            "args": request.query_params,
            "csv_query": _params(request),
        },
        status_code=400 if error else 200,
    )


@router.get("/staffing.csv")
def staffing_csv(request: Request, staff: Reader, db: DbSession, settings: SettingsDep) -> Response:
    inputs = _inputs(request)
    day, _channels, _weeks, rows = _plan(request, db, settings, inputs)
    return _csv(
        export.plain_csv(
            ["start", "contacts", "aht_seconds", "traffic", "agents", "scheduled", "service_level"],
            [
                [
                    row.start.strftime("%H:%M"),
                    f"{row.contacts:.2f}",
                    f"{row.aht_seconds:.1f}",
                    f"{row.answer.traffic:.3f}",
                    row.answer.agents,
                    row.answer.scheduled,
                    f"{row.answer.service_level:.4f}",
                ]
                for row in rows
            ],
        ),
        f"staffing-{day.isoformat()}",
    )
