"""Jinja2 environment shared by every page: catalogue texts in the request's language."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from kefu.config import get_settings
from kefu.i18n import Lang, listed, translate

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def _local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time as the service's local time, which is what people are told."""
    if value is None:
        return "—"
    return value.astimezone(get_settings().tz).strftime(fmt)


# The name in the top bar and page titles: the console's own for staff pages (their login
# and error pages too), the help center's for every page customers see.
BRAND_CONSOLE = "console.brand"
BRAND_HELP_CENTER = "app.name"


def in_console(request: Request) -> bool:
    path = request.url.path
    return path == "/console" or path.startswith("/console/")


@lru_cache
def templates() -> Jinja2Templates:
    environment = Jinja2Templates(directory=str(TEMPLATE_DIR))
    environment.env.filters["local_time"] = _local_time
    return environment


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    lang: Lang = request.state.lang

    def t(key: str, **params: Any) -> str:
        return translate(key, lang, **params)

    def labels(prefix: str, codes: Iterable[object]) -> str:
        """Codes as their labels, listed: labels("chat.tier.", ["tier1"]) → 一线."""
        return listed((translate(f"{prefix}{code}", lang) for code in codes), lang)

    def staff_name(display_name: str, role: str) -> str:
        """A colleague by name, their role beside it: a name holds no title."""
        return f"{display_name} · {translate(f'role.{role}', lang)}"

    values: dict[str, Any] = {
        "lang": lang,
        "t": t,
        "labels": labels,
        "staff_name": staff_name,
        "brand": translate(BRAND_CONSOLE if in_console(request) else BRAND_HELP_CENTER, lang),
    }
    values.update(context or {})
    return templates().TemplateResponse(request, name, values, status_code=status_code)
