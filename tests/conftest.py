"""Test fixtures: a fresh, migrated database per test session (SQLite, or PostgreSQL when
KEFU_TEST_DATABASE=postgres), and per test a session inside a transaction that is rolled
back, so tests never see each other's rows."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, make_url
from sqlalchemy.orm import Session

from kefu import migrate
from kefu.app import create_app
from kefu.config import Settings, get_settings
from kefu.db import get_db, get_engine, get_sessionmaker, make_engine

BACKEND = os.environ.get("KEFU_TEST_DATABASE", "sqlite")


def pytest_configure(config: pytest.Config) -> None:
    """Every test runs in the test environment (deferred work done at once), whichever
    fixture comes first: browser tests build their own database and never asked for
    ``database_url``, so run alone they searched an index nothing had been written to."""
    os.environ["KEFU_ENV"] = "test"
    get_settings.cache_clear()


def _postgres_admin_url() -> str:
    url = os.environ.get("KEFU_TEST_POSTGRES_URL")
    if not url:
        pytest.exit("KEFU_TEST_DATABASE=postgres needs KEFU_TEST_POSTGRES_URL", returncode=2)
    return url


def create_database(tmp_dir: Path, *, copy_of: str | None = None) -> tuple[str, Callable[[], None]]:
    """A new database, empty or a copy of the database at ``copy_of`` (a URL this function
    returned, no longer connected to); returns its URL and a function that removes it."""
    if BACKEND == "postgres":
        import psycopg

        admin = make_url(_postgres_admin_url())
        name = f"kefu_test_{uuid.uuid4().hex[:12]}"
        dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
        template = f' TEMPLATE "{make_url(copy_of).database}"' if copy_of else ""
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{template}')

        def drop() -> None:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        return admin.set(database=name).render_as_string(hide_password=False), drop
    path = tmp_dir / f"kefu-{uuid.uuid4().hex[:8]}.db"
    if copy_of:
        shutil.copyfile(str(make_url(copy_of).database), path)
    return f"sqlite:///{path}", lambda: None


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, drop = create_database(tmp_path_factory.mktemp("db"))
    os.environ["KEFU_DATABASE_URL"] = url
    os.environ["KEFU_ENV"] = "test"
    os.environ.pop("KEFU_DEMO", None)
    get_settings.cache_clear()
    get_engine.cache_clear()
    get_sessionmaker.cache_clear()
    engine = get_engine()
    migrate.upgrade(engine)
    yield url
    engine.dispose()
    drop()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Engine:
    return get_engine()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session whose commits only release a savepoint; everything is rolled back after."""
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return get_settings()


@pytest.fixture
def app(db: Session, settings: Settings) -> FastAPI:
    application = create_app(settings)

    def _test_db() -> Iterator[Session]:
        yield db

    application.dependency_overrides[get_db] = _test_db
    application.dependency_overrides[get_settings] = lambda: settings
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database migrated once per test process, copied for every isolated database:
    running the whole migration chain again took about a second per test on SQLite and
    several on PostgreSQL."""
    url, drop = create_database(tmp_path_factory.mktemp("template"))
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()  # a PostgreSQL template must have no connections; SQLite checkpoints its WAL
    yield url
    drop()


@pytest.fixture
def isolated_database(tmp_path: Path, migrated_template: str) -> Iterator[Engine]:
    """A separate migrated database whose commits are real, for tests of concurrency
    between connections or processes. Tests using it clean up by dropping it."""
    url, drop = create_database(tmp_path, copy_of=migrated_template)
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        drop()
