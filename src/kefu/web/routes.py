"""Mounts the pages and their static files."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from kefu.antifraud.pages import router as antifraud_router
from kefu.cases.customer_pages import router as case_customer_pages_router
from kefu.cases.sla_pages import router as sla_pages_router
from kefu.cases.tracking_pages import router as case_tracking_pages_router
from kefu.chat.canned_pages import router as canned_router
from kefu.chat.skills_pages import router as skills_router
from kefu.config import Settings
from kefu.identity.pages import router as staff_router
from kefu.identity.signin_pages import router as signin_router
from kefu.identity.two_factor_pages import router as two_factor_router
from kefu.kb.pages import router as kb_pages_router
from kefu.support.pages import router as approvals_router
from kefu.web.customer_view import router as customer_view_router
from kefu.web.help import router as help_router
from kefu.web.home import router as home_router
from kefu.web.settings_page import router as settings_router
from kefu.web.templating import STATIC_DIR


def mount_web(app: FastAPI, settings: Settings) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(signin_router)
    app.include_router(home_router)
    app.include_router(staff_router)
    app.include_router(skills_router)
    app.include_router(two_factor_router)
    app.include_router(kb_pages_router)
    app.include_router(canned_router)
    app.include_router(sla_pages_router)
    app.include_router(settings_router)
    app.include_router(customer_view_router)
    app.include_router(approvals_router)
    app.include_router(antifraud_router)
    app.include_router(help_router)
    app.include_router(case_tracking_pages_router)
    app.include_router(case_customer_pages_router)
    app.add_api_route(
        "/",
        lambda: RedirectResponse("/help", status_code=307),
        methods=["GET"],
        include_in_schema=False,
    )
    # browsers and chat clients ask for /favicon.ico whatever the page names
    app.add_api_route(
        "/favicon.ico",
        lambda: RedirectResponse("/static/favicon.svg", status_code=301),
        methods=["GET"],
        include_in_schema=False,
    )
