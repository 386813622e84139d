"""Tables as CSV and JSON, the same for the console's download and ``kefu report``."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from kefu.i18n import Lang, translate
from kefu.quality import metrics
from kefu.quality.drill import DrillRow
from kefu.quality.service import Query, Row, Table


def _value(name: str, value: float | None) -> str:
    if value is None:
        return ""
    unit = next((f.unit for f in metrics.FIGURES if f.name == name), "count")
    if unit == "share":
        return f"{value:.4f}"
    if unit in ("seconds", "score"):
        return f"{value:.1f}"
    return str(round(value))


def _row_dict(row: Row) -> dict[str, Any]:
    return {
        "key": row.key.isoformat() if hasattr(row.key, "isoformat") else row.key,
        "label": row.label,
        **{
            name: (round(value, 4) if isinstance(value, float) else value)
            for name, value in row.figures.items()
        },
    }


def as_json(table: Table, query: Query) -> dict[str, Any]:
    return {
        "from": query.start.isoformat(),
        "to": query.end.isoformat(),
        "filters": {
            "channel": query.channel,
            "category": query.category,
            "staff_id": query.staff_id,
            "team": query.team,
        },
        "target_seconds": query.target_seconds,
        "breakdown": table.breakdown,
        "total": {
            **_row_dict(table.total),
            metrics.FOLLOWUP_FIGURE: table.followups.share,
            "followups_due": table.followups.due,
            "followups_on_time": table.followups.on_time,
        },
        "rows": [_row_dict(row) for row in table.rows],
    }


def _csv(header: Sequence[str], rows: Sequence[Sequence[str]], *, bom: bool) -> str:
    out = io.StringIO()
    if bom:
        out.write("\ufeff")  # so spreadsheet programs read the Chinese text as UTF-8
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def table_csv(table: Table, *, lang: Lang | None = None, bom: bool = False) -> str:
    """One row per group and a last row for the total. Headers are figure keys, or
    translated names when ``lang`` is given."""
    names = list(metrics.FIGURE_NAMES)
    if lang is None:
        header = [table.breakdown, *names]
    else:
        header = [
            translate(f"quality.by.{table.breakdown}", lang),
            *(translate(f"quality.figure.{n}", lang) for n in names),
        ]
    rows = [[row.label, *(_value(n, row.figures[n]) for n in names)] for row in table.rows]
    total_label = "total" if lang is None else translate("quality.total", lang)
    rows.append([total_label, *(_value(n, table.total.figures[n]) for n in names)])
    return _csv(header, rows, bom=bom)


def drill_csv(rows: Sequence[DrillRow], *, lang: Lang, bom: bool = True) -> str:
    columns = list(rows[0].as_dict()) if rows else list(DrillRow.__dataclass_fields__)
    header = [translate(f"quality.drill.{c}", lang) for c in columns]
    body = [[_cell(row.as_dict()[c]) for c in columns] for row in rows]
    return _csv(header, body, bom=bom)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def plain_csv(header: Sequence[str], rows: Sequence[Sequence[Any]], *, bom: bool = True) -> str:
    return _csv(header, [[_cell(v) for v in row] for row in rows], bom=bom)
