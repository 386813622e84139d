"""A request that waits on SQLite's one writer longer than ``KEFU_DATABASE_BUSY_TIMEOUT``
is answered 503 with Retry-After and a reason, not 500; once the writer is gone the same
request goes through."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from kefu import migrate
from kefu.app import create_app
from kefu.config import get_settings
from kefu.db import get_db, make_engine
from kefu.identity import service

BUSY_TIMEOUT = 0.3


def test_a_request_blocked_by_another_writer_gets_503_with_retry_after(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    engine = make_engine(f"sqlite:///{path}", busy_timeout=BUSY_TIMEOUT)
    migrate.upgrade(engine)
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    with sessions() as db:
        service.create_staff(
            db, username="busy_agent", password="Correct-Horse-42", role="agent", display_name=None
        )
        db.commit()

    app = create_app(get_settings())

    def _db() -> Iterator[Session]:
        with sessions() as session:
            yield session

    app.dependency_overrides[get_db] = _db
    login = {"username": "busy_agent", "password": "Correct-Horse-42"}
    other = sqlite3.connect(path, isolation_level=None)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            started = time.monotonic()
            blocked = client.post("/api/v1/auth/token", json=login, params={"lang": "en"})
            waited = time.monotonic() - started
            assert blocked.status_code == 503, blocked.text
            assert blocked.headers["Retry-After"] == "5"
            error = blocked.json()["error"]
            assert error["code"] == "database_busy"
            assert error["message"] == (
                "The service is busy and did not save anything. Please try again in 5 seconds."
            )
            assert BUSY_TIMEOUT <= waited < 10
            zh = client.post("/api/v1/auth/token", json=login, params={"lang": "zh-CN"})
            assert zh.status_code == 503
            assert zh.json()["error"]["message"] == "系统繁忙，本次操作未保存，请 5 秒后重试。"

            other.execute("ROLLBACK")
            assert client.post("/api/v1/auth/token", json=login).status_code == 200
    finally:
        other.close()
        engine.dispose()
