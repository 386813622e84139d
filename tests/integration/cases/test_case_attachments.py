"""Attachments: real types only, size capped, stored through the storage adapter."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import make_customer, staff_token

from kefu.config import Settings
from kefu.errors import ConfigError
from kefu.storage import LocalStorage, build_storage

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def local_storage(client: TestClient, tmp_path: Path) -> LocalStorage:
    store = LocalStorage(tmp_path)
    client.app.state.storage = store  # type: ignore[attr-defined]
    return store


def _case(client: TestClient, headers: dict[str, str], customer_id: int) -> str:
    body = {"customer_id": customer_id, "category": "payment_failed", "subject": "扣款未成功"}
    reference: str = client.post("/api/v1/cases", json=body, headers=headers).json()["reference"]
    return reference


def test_screenshot_is_stored_and_read_back(
    client: TestClient, db: Session, local_storage: LocalStorage
) -> None:
    headers = {"Authorization": f"Bearer {staff_token(client, db, 'agent')}"}
    ref = _case(client, headers, make_customer(db).id)
    sent = client.post(
        f"/api/v1/cases/{ref}/attachments",
        files={"file": ("截图.txt", PNG, "text/plain")},  # the bytes decide, not the name
        headers=headers,
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["content_type"] == "image/png" and sent.json()["size"] == len(PNG)
    got = client.get(f"/api/v1/cases/{ref}/attachments/{sent.json()['public_id']}", headers=headers)
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    timeline = client.get(f"/api/v1/cases/{ref}", headers=headers).json()["timeline"]
    assert any(e["kind"] == "attachment" for e in timeline)


def test_wrong_type_and_oversize_are_refused(
    client: TestClient, db: Session, settings: Settings, local_storage: LocalStorage
) -> None:
    headers = {"Authorization": f"Bearer {staff_token(client, db, 'agent')}"}
    ref = _case(client, headers, make_customer(db).id)
    exe = client.post(
        f"/api/v1/cases/{ref}/attachments",
        files={"file": ("a.png", b"MZ\x90\x00" + b"\x00" * 64, "image/png")},
        headers=headers,
    )
    assert exe.status_code == 415 and exe.json()["error"]["code"] == "attachment_type_refused"
    huge = PNG + b"\x00" * settings.attachment_max_bytes
    big = client.post(
        f"/api/v1/cases/{ref}/attachments",
        files={"file": ("a.png", huge, "image/png")},
        headers=headers,
    )
    assert big.status_code == 413 and "MB" in big.json()["error"]["message"]
    assert list(local_storage.root.rglob("*")) == []


def test_unknown_backend_fails_loudly(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="KEFU_STORAGE_BACKEND"):
        build_storage(settings.model_copy(update={"storage_backend": "s3"}))
