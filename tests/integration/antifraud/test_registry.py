"""The registry: the public channel list in the issue's shape, admin edits with history,
audit and stale-edit protection, retiring, and who may do what."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import staff_token

from kefu import audit
from kefu.antifraud import registry, service
from kefu.antifraud.schemas import EntryFields
from kefu.audit import AuditEvent

ADMIN = audit.Actor(name="staff:admin", role="admin")


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_public_channel_list_shape(client: TestClient, seeded: Session) -> None:
    body = client.get("/api/v1/channels", params={"lang": "en"}).json()
    assert body and all(set(item) == {"kind", "value", "label", "notes"} for item in body)
    assert {item["kind"] for item in body} == {"phone", "domain", "email", "wechat", "weibo", "app"}
    assert body[0]["kind"] == "phone" and body[0]["value"] == "95099"
    assert "not toll-free" in body[0]["notes"] and "24 hours" in body[0]["notes"]
    free = next(item for item in body if item["value"] == "800 820 9595")
    assert free["notes"].startswith("toll-free")
    zh = client.get("/api/v1/channels", params={"lang": "zh-CN"}).json()
    assert zh[0]["label"] == "客服热线" and "7×24" in zh[0]["notes"]
    assert all("scam" not in item["label"].lower() for item in body)
    assert "170 1234 5678" not in {item["value"] for item in body}


def test_contact_channels_come_from_the_registry(seeded: Session) -> None:
    channels = service.contact_channels(seeded)
    hotline = channels[0]
    assert (hotline.kind, hotline.role, hotline.toll_free) == ("phone", "hotline", False)
    assert hotline.label("zh-CN") == "客服热线"
    assert hotline.cost["en"].startswith("charged at your local call rate")
    entry = registry.find(seeded, "phone", hotline.normalised)
    assert entry is not None
    registry.update_entry(
        seeded,
        entry.id,
        EntryFields.model_validate({**registry.snapshot(entry), "label_en": "Main hotline"}),
        actor=ADMIN,
    )
    assert service.contact_channels(seeded)[0].label("en") == "Main hotline"


def test_admin_edits_keep_history_and_audit(client: TestClient, seeded: Session) -> None:
    headers = _auth(staff_token(client, seeded, "admin"))
    created = client.post(
        "/api/v1/antifraud/registry",
        json={
            "kind": "phone",
            "value": "+86 21 6080 9596",
            "role": "outbound",
            "label_zh": "回访",
            "label_en": "Call-backs",
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    entry = created.json()
    assert entry["normalised"] == "+862160809596" and entry["version"] == 1
    again = client.post(
        "/api/v1/antifraud/registry",
        json={"kind": "phone", "value": "02160809596"},
        headers=headers,
    )
    assert again.status_code == 409
    path = f"/api/v1/antifraud/registry/{entry['id']}"
    edit = {**entry, "label_en": "Call-backs (Shanghai)", "version": 1}
    assert client.put(path, json=edit, headers=headers).json()["version"] == 2
    stale = client.put(path, json={**edit, "label_en": "lost"}, headers=headers)
    assert stale.status_code == 409
    assert client.post(f"{path}/retire", headers=headers).json()["active"] is False
    assert service.verify(seeded, "02160809596", lang="en").verdict == "not_official"
    history = client.get(f"{path}/history", headers=headers).json()
    assert [h["change"] for h in history] == ["create", "update", "retire"]
    assert history[1]["data"]["label_en"] == "Call-backs (Shanghai)"
    actions = seeded.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("antifraud.registry.%"))
    ).all()
    assert {
        "antifraud.registry.create",
        "antifraud.registry.update",
        "antifraud.registry.retire",
    } <= set(actions)


def test_bad_entries_are_refused(client: TestClient, seeded: Session) -> None:
    headers = _auth(staff_token(client, seeded, "admin"))
    for body in (
        {"kind": "phone", "value": "kefu-wallet.com.cn"},
        {"kind": "domain", "value": "http://"},
        {"kind": "phone", "value": "95099", "role": "fax"},
        {"kind": "account", "value": "someone", "status": "official"},
        {"kind": "fax", "value": "95099"},
    ):
        response = client.post("/api/v1/antifraud/registry", json=body, headers=headers)
        assert response.status_code in (400, 422), (body, response.text)


def test_agents_read_admins_edit(client: TestClient, seeded: Session) -> None:
    agent = _auth(staff_token(client, seeded, "agent"))
    listing = client.get("/api/v1/antifraud/registry", params={"status": "scam"}, headers=agent)
    assert listing.status_code == 200 and listing.json()["total"] == 4
    found = client.get(
        "/api/v1/antifraud/registry", params={"q": "4008009595"}, headers=agent
    ).json()
    assert [item["value"] for item in found["items"]] == ["400 800 9595"]
    refused = client.post(
        "/api/v1/antifraud/registry", json={"kind": "phone", "value": "95098"}, headers=agent
    )
    assert refused.status_code == 403


def test_the_registry_pages_by_cursor(client: TestClient, seeded: Session) -> None:
    """Page by page with next_cursor reads the same entries, in the same order, as one
    long page; the deprecated offset still answers."""
    agent = _auth(staff_token(client, seeded, "agent"))
    whole = client.get("/api/v1/antifraud/registry", params={"limit": 500}, headers=agent).json()
    assert whole["next_cursor"] is None and len(whole["items"]) == whole["total"] > 5
    paged: list[int] = []
    params: dict[str, object] = {"limit": 3}
    while True:
        page = client.get("/api/v1/antifraud/registry", params=params, headers=agent).json()
        assert page["total"] == whole["total"]
        paged += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert paged == [item["id"] for item in whole["items"]]
    skipped = client.get(
        "/api/v1/antifraud/registry", params={"limit": 3, "offset": 3}, headers=agent
    ).json()
    assert [item["id"] for item in skipped["items"]] == paged[3:6]
    bad = client.get("/api/v1/antifraud/registry", params={"cursor": "W10"}, headers=agent)
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "cursor"


def test_demo_seed_is_idempotent(seeded: Session) -> None:
    assert registry.seed_demo(seeded) == 0
