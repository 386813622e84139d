"""Jinja2 environment shared by every page: catalogue texts in the request's language."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from kefu.i18n import Lang, translate

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


@lru_cache
def templates() -> Jinja2Templates:
    return Jinja2Templates(directory=str(TEMPLATE_DIR))


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    lang: Lang = request.state.lang

    def t(key: str, **params: Any) -> str:
        return translate(key, lang, **params)

    values: dict[str, Any] = {"lang": lang, "t": t}
    values.update(context or {})
    return templates().TemplateResponse(request, name, values, status_code=status_code)
