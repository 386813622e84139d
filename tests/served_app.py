"""The app as ``kefu serve`` runs it over a test's own database, for the tests that commit
for real (live servers, a staff check on its own connection)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from kefu.app import create_app
from kefu.config import Settings, get_settings
from kefu.db import get_db


def app_on(engine: Engine, settings: Settings) -> FastAPI:
    """The app with ``settings``, its requests' sessions on ``engine`` and committed for
    real. It is told the database's URL, so the connections it opens itself (the event
    loop's on PostgreSQL, the read-only ones on SQLite) reach the same database."""
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    app = create_app(settings)

    def _db() -> Iterator[Session]:
        with sessions() as session:
            yield session

    app.dependency_overrides[get_db] = _db
    app.state.database_url = engine.url.render_as_string(hide_password=False)
    app.dependency_overrides[get_settings] = lambda: settings
    return app
