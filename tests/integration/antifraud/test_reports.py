"""Scam reports: anyone reports with screenshots; reports of one value in any spelling are
counted on one row, a same-day repeat by the same person is kept but not counted; a
specialist confirms (the value enters the registry as a scam, audited) or rejects."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import staff_token

from kefu import audit
from kefu.antifraud import registry, reports, service
from kefu.audit import AuditEvent
from kefu.config import Settings
from kefu.errors import Conflict
from kefu.storage import LocalStorage

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SPECIALIST = audit.Actor(name="staff:specialist", role="specialist")


def _report(
    client: TestClient, value: str, *, files: list[tuple[str, bytes]] = (), ip: str | None = None
) -> dict:
    response = client.post(
        "/api/v1/antifraud/reports",
        data={"value": value, "description": "他自称客服，要我的验证码 123456"},
        files=[("screenshots", (name, data, "image/png")) for name, data in files],
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 201, response.text
    body: dict = response.json()
    return body


def test_report_with_screenshot_then_confirm(
    client: TestClient, seeded: Session, local_storage: LocalStorage
) -> None:
    first = _report(client, "+86 171-0000-1111", files=[("call.png", PNG)])
    assert (first["kind"], first["report_count"], first["screenshots"]) == ("phone", 1, 1)
    assert "reports of it so far: 1" in first["message"]
    # the same person again the same day: kept, not counted
    repeat = _report(client, "17100001111")
    assert repeat["report_id"] == first["report_id"]
    assert (repeat["report_count"], repeat["counted"]) == (1, False)
    # someone else, another spelling
    other = service.submit_report(
        seeded,
        value="171 0000 1111",
        description="",
        lang="zh-CN",
        settings=client.app.state.settings,  # type: ignore[attr-defined]
        storage=local_storage,
        client_hash="another-person",
    )
    assert other.report_count == 2
    assert service.verify(seeded, "17100001111", lang="en").reason.count("reports so far: 2") == 1

    headers = {"Authorization": f"Bearer {staff_token(client, seeded, 'specialist')}"}
    queue = client.get("/api/v1/antifraud/reports", headers=headers).json()
    assert queue["items"][0]["value"] == "171 0000 1111"
    detail = client.get(f"/api/v1/antifraud/reports/{first['report_id']}", headers=headers).json()
    assert len(detail["items"]) == 3
    assert "123456" not in str(detail), "codes in descriptions are masked"
    shot = detail["items"][0]["screenshots"][0]
    image = client.get(
        f"/api/v1/antifraud/reports/{first['report_id']}/screenshots/{shot['public_id']}",
        headers=headers,
    )
    assert image.status_code == 200 and image.content == PNG

    reviewed = client.post(
        f"/api/v1/antifraud/reports/{first['report_id']}/review",
        json={
            "decision": "confirm",
            "note": "same script as last week",
            "label_en": "Fake refund calls",
        },
        headers=headers,
    )
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["status"] == "confirmed"
    result = service.verify(seeded, "+8617100001111", lang="en")
    assert result.verdict == "reported_scam" and "Fake refund calls" in result.reason
    entry = registry.find(seeded, "phone", "+8617100001111")
    assert entry is not None and entry.source.startswith(f"report #{first['report_id']}")
    assert seeded.scalar(select(AuditEvent).where(AuditEvent.action == "antifraud.report.confirm"))
    again = client.post(
        f"/api/v1/antifraud/reports/{first['report_id']}/review",
        json={"decision": "reject"},
        headers=headers,
    )
    assert again.status_code == 409


def test_reject_then_new_evidence_reopens(seeded: Session, settings: Settings, tmp_path) -> None:
    store = LocalStorage(tmp_path)
    receipt = reports.submit_report(
        seeded,
        value="kefu-fan-club.example",
        description="",
        lang="en",
        settings=settings,
        storage=store,
    )
    service.review_report(
        seeded, receipt.report_id, decision="reject", note="a fan site", actor=SPECIALIST
    )
    assert service.verify(seeded, "kefu-fan-club.example", lang="en").verdict == "not_official"
    later = reports.submit_report(
        seeded,
        value="http://kefu-fan-club.example/refund",
        description="",
        lang="en",
        settings=settings,
        storage=store,
    )
    assert later.status == "pending" and later.report_count == 2


def test_an_official_value_cannot_be_confirmed_as_a_scam(
    seeded: Session, settings: Settings, tmp_path
) -> None:
    receipt = reports.submit_report(
        seeded,
        value="95099",
        description="they called from 95099",
        lang="en",
        settings=settings,
        storage=LocalStorage(tmp_path),
    )
    try:
        service.review_report(
            seeded, receipt.report_id, decision="confirm", note="", actor=SPECIALIST
        )
    except Conflict:
        pass
    else:
        raise AssertionError("an official number was confirmed as a scam")
    assert service.verify(seeded, "95099", lang="en").verdict == "official"


def test_bad_reports_are_refused(
    client: TestClient, seeded: Session, local_storage: LocalStorage
) -> None:
    def post(value: str, files: list[tuple[str, bytes]]) -> int:
        return client.post(
            "/api/v1/antifraud/reports",
            data={"value": value},
            files=[("screenshots", (n, d, "image/png")) for n, d in files],
        ).status_code

    assert post("", []) in (400, 422)
    assert post("<script>alert(1)</script>", []) == 400
    assert post("17100002222", [("x.png", b"MZ\x90\x00 not an image")]) == 415
    assert post("17100002222", [("x.png", b"%PDF-1.7 ...")]) == 415
    assert post("17100002222", [("x.png", PNG)] * 4) == 400
    assert list(local_storage.root.rglob("*")) == []


def test_specialists_review_agents_do_not(client: TestClient, seeded: Session) -> None:
    agent = {"Authorization": f"Bearer {staff_token(client, seeded, 'agent')}"}
    assert client.get("/api/v1/antifraud/reports", headers=agent).status_code == 403
