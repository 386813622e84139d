"""What staff do with the hotline: read call records (the customer's timeline), write
after-call notes, work the call-backs, and edit the menu tree with its checks."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import staff_token
from tests.integration.voice.carrier import CarrierCall
from tests.integration.voice.conftest import STUCK_TOPUP, last_code, phone_of

from kefu.audit import AuditEvent
from kefu.cases import service as cases_service
from kefu.cases import timeline
from kefu.voice.default_menu import DEFAULT_TREE
from kefu.voice.models import VoiceCall

Ring = Callable[[str], CarrierCall]


@pytest.fixture
def api(voice_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(voice_app) as client:
        yield client


def auth(api: TestClient, db: Session, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {staff_token(api, db, role)}"}


def stolen_call(ring: Ring, db: Session) -> CarrierCall:
    call = ring(phone_of(STUCK_TOPUP)).press("1").press("3").press("1")
    call.press(last_code(db, phone_of(STUCK_TOPUP))).press("1")
    return call


def test_call_records_and_the_customers_timeline(
    ring: Ring, api: TestClient, demo_db: Session
) -> None:
    call = stolen_call(ring, demo_db)
    call.end()
    headers = auth(api, demo_db, "agent")
    found = api.get(f"/api/v1/voice/calls/{call.sid}", headers=headers)
    assert found.status_code == 200
    body = found.json()
    assert body["caller"] == "138****0002" and "13800000002" not in found.text
    assert body["identified_by"] == "caller_id" and body["verified_at"]
    assert body["menu_path"] == ["main", "freeze"]
    assert [r["action"] for r in body["self_service"]] == ["verified", "freeze"]
    assert body["outcome"] == "self_service" and body["reference_told"] == body["case_reference"]
    assert body["duration_seconds"] == 120
    kinds = [event["kind"] for event in body["events"]]
    assert kinds[0] == "started" and kinds[-1] == "ended" and "reference_told" in kinds
    timeline_calls = api.get(f"/api/v1/customers/{body['customer_id']}/calls", headers=headers)
    assert [c["call_sid"] for c in timeline_calls.json()] == [call.sid]
    case = cases_service.get_case(demo_db, body["case_reference"])
    call_events = [e for e in timeline.events(demo_db, case) if e.kind == "call"]
    assert len(call_events) == 1 and call.sid in (call_events[0].body or "")


def test_after_call_notes_are_masked_and_audited(
    ring: Ring, api: TestClient, demo_db: Session
) -> None:
    call = ring(phone_of(STUCK_TOPUP)).press("1").press("0")
    call.hang_up()
    headers = auth(api, demo_db, "agent")
    response = api.patch(
        f"/api/v1/voice/calls/{call.sid}",
        json={"notes": "客户说验证码是 123456，卡号 6222020200112233446", "outcome": "agent"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert "123456" not in response.text and "6222020200112233446" not in response.text
    assert response.json()["outcome"] == "agent"
    bad = api.patch(
        f"/api/v1/voice/calls/{call.sid}", json={"case": "KF-nonsense"}, headers=headers
    )
    assert bad.status_code == 400
    missing = api.patch("/api/v1/voice/calls/CA-none", json={"notes": "x"}, headers=headers)
    assert missing.status_code == 404
    assert demo_db.scalar(select(AuditEvent).where(AuditEvent.action == "voice.call.update"))


def test_call_backs_are_listed_masked_read_in_full_with_audit_and_done(
    ring: Ring, api: TestClient, demo_db: Session
) -> None:
    ring(phone_of(STUCK_TOPUP)).press("1").press("0").press("1").press("1")
    headers = auth(api, demo_db, "agent")
    listed = api.get("/api/v1/voice/callbacks", headers=headers).json()
    mine = [row for row in listed if row["number"] == "138****0002"]
    assert len(mine) == 1 and "+8613800000002" not in str(listed)
    callback_id = mine[0]["id"]
    number = api.post(f"/api/v1/voice/callbacks/{callback_id}/number", headers=headers)
    assert number.json() == {"number": "+8613800000002"}
    read = demo_db.scalar(
        select(AuditEvent).where(AuditEvent.action == "voice.callback.number_read")
    )
    assert read is not None and "+8613800000002" not in (read.after or "")
    done = api.post(
        f"/api/v1/voice/callbacks/{callback_id}/done",
        json={"outcome": "reached", "notes": "已回电，问题已解决"},
        headers=headers,
    )
    assert done.status_code == 200 and done.json()["status"] == "done"
    again = api.post(
        f"/api/v1/voice/callbacks/{callback_id}/done", json={"outcome": "reached"}, headers=headers
    )
    assert again.status_code == 409


def test_the_menu_is_edited_by_admins_only_and_checked(
    ring: Ring, api: TestClient, demo_db: Session
) -> None:
    agent = auth(api, demo_db, "agent")
    admin = auth(api, demo_db, "admin")
    live = api.get("/api/v1/voice/menu", headers=agent)
    assert live.status_code == 200 and live.json()["version"] == 1
    edited = copy.deepcopy(DEFAULT_TREE)
    edited["nodes"]["main"]["intro"] = {"zh-CN": "新年快乐！请选择服务。", "en": "Happy new year!"}
    assert api.put("/api/v1/voice/menu", json={"tree": edited}, headers=agent).status_code == 403
    broken = copy.deepcopy(edited)
    broken["nodes"]["main"]["options"] = [{"key": "1", "label": "voice.option.back", "to": "main"}]
    checked = api.post("/api/v1/voice/menu/check", json={"tree": broken}, headers=admin).json()
    assert checked["ok"] is False
    assert "Node “main” is a dead end: no way from it reaches a person." in checked["problems"]
    refused = api.put("/api/v1/voice/menu", json={"tree": broken}, headers=admin)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "menu_invalid"
    assert "cannot be reached from the start node" in refused.json()["error"]["message"]
    during = ring("+8613912345678")  # started on version 1
    published = api.put(
        "/api/v1/voice/menu", json={"tree": edited, "comment": "春节"}, headers=admin
    )
    assert published.status_code == 200 and published.json()["version"] == 2
    during.press("1")
    assert during.said("请选择您需要的服务。")  # the call keeps its version
    after = ring("+8613912345678").press("1")
    assert after.said("新年快乐！请选择服务。")
    versions = api.get("/api/v1/voice/menu/versions", headers=admin).json()
    assert [v["version"] for v in versions] == [2, 1]
    call = demo_db.scalar(select(VoiceCall).where(VoiceCall.call_sid == after.sid))
    assert call is not None and call.menu_version == 2
