"""Browser tests: a real uvicorn server on loopback with its own database, driven by
Debian's Chromium through Playwright. Screenshots go to var/screenshots/."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Page, Route, expect
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from tests.factories import STAFF_PASSWORD
from tests.served_app import app_on

from kefu.chat import service as chat_service
from kefu.config import Settings, get_settings
from kefu.identity import service as identity_service

CHROMIUM = os.environ.get("KEFU_TEST_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"

# Playwright's 5 s for an expectation was too short when the suite runs two workers beside
# a server and Chromium on two cores (the phone simulator synthesising speech missed it at
# load 10); waiting longer costs nothing when the page is right.
expect.set_options(timeout=15_000)


@dataclass
class LiveServer:
    url: str
    sessions: sessionmaker[Session]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def live_settings() -> Settings:
    """What the live server runs with; a test module overrides it (pick routing, say)."""
    return Settings(**{**get_settings().model_dump(), "demo": True})


@pytest.fixture
def live_server(isolated_database: Engine, live_settings: Settings) -> Iterator[LiveServer]:
    sessions = sessionmaker(bind=isolated_database, expire_on_commit=False)
    app = app_on(isolated_database, live_settings)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("test server did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}", sessions=sessions)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not installed at {CHROMIUM} (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@contextmanager
def held(page: Page, path: str) -> Iterator[Callable[[], None]]:
    """A page's script held back until the returned function lets it go: the moment a
    person can already use the page and its deferred script has not run."""
    waiting: list[Route] = []

    def hold(route: Route) -> None:
        waiting.append(route)

    page.route(f"**{path}", hold)

    def release() -> None:
        while not waiting:  # Playwright reports the request while it is waited on
            page.wait_for_timeout(20)
        waiting.pop().continue_()

    try:
        yield release
    finally:
        page.unroute(f"**{path}")


def an_agents_chat(live_server: LiveServer, *, language: str = "zh-CN") -> str:
    """An anonymous visitor's web chat, active and held by agent 坐席 小李 (``xiaoli``),
    after the visitor's first words: its page's address."""

    with live_server.sessions() as db:
        agent = identity_service.create_staff(
            db, username="xiaoli", password=STAFF_PASSWORD, role="agent", display_name="坐席 小李"
        )
        conversation = chat_service.start(db, channel="web", language=language)
        chat_service.append(db, conversation, sender="customer", text="充值没到账")
        conversation.status = "active"
        conversation.assigned_staff_id = agent.id
        db.commit()
        return f"{live_server.url}/console/chats/{conversation.id}"
