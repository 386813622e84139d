"""The demo registry (official channels of the demo wallet and a few known scams) loaded
into the test's transaction, and screenshots kept in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from kefu.antifraud import registry
from kefu.storage import LocalStorage


@pytest.fixture
def seeded(db: Session) -> Session:
    assert registry.seed_demo(db) > 0
    db.flush()
    return db


@pytest.fixture
def local_storage(client: TestClient, tmp_path: Path) -> LocalStorage:
    store = LocalStorage(tmp_path)
    client.app.state.storage = store  # type: ignore[attr-defined]
    return store
