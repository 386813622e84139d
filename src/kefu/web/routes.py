"""Mounts the pages and their static files."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from kefu.config import Settings
from kefu.web.console import router as console_router
from kefu.web.templating import STATIC_DIR


def mount_web(app: FastAPI, settings: Settings) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(console_router)
    app.add_api_route(
        "/",
        lambda: RedirectResponse("/console", status_code=307),
        methods=["GET"],
        include_in_schema=False,
    )
