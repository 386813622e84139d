"""Scam signals on the registry's side: links that are not ours, confirmed scam numbers in
a message; and the flag on a conversation and its case that specialists follow up."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import make_customer, staff_token
from tests.integration.cases.case_helpers import make_case

from kefu import audit
from kefu.antifraud import service
from kefu.cases import timeline
from kefu.chat import service as chat_service
from kefu.config import Settings

BOT = audit.Actor(name="bot", role="bot")


def test_links_and_numbers_in_messages(seeded: Session) -> None:
    found = service.detect_signals_with_links(
        seeded, "客服发来链接 https://kefu-wallet.com.cn.example.net/refund 让我登录"
    )
    (link,) = [s for s in found if s.kind == "unofficial_link"]
    assert link.detail == "kefu-wallet.com.cn"
    assert (
        service.detect_signals_with_links(seeded, "官网是 https://help.kefu-wallet.com.cn/ 对吧")
        == []
    )
    scam = service.detect_signals_with_links(seeded, "刚才 170 1234 5678 打给我说要退款")
    assert [s.kind for s in scam] == ["reported_scam_contact"]
    assert service.detect_signals_with_links(seeded, "我打了95099，没人接") == []
    both = service.detect_signals_with_links(
        seeded, "he asked for my code and sent kefu-wa11et.com.cn"
    )
    assert [s.kind for s in both] == ["asked_for_code", "unofficial_link"]


def test_flag_conversation_and_case(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    customer = make_customer(seeded)
    case = make_case(seeded, settings, customer_id=customer.id)
    conversation = chat_service.start(
        seeded, channel="web", language="zh-CN", customer_id=customer.id
    )
    text = "客服让我把验证码 654321 告诉他"
    signals = service.detect_signals(text)
    flag = service.flag(
        seeded,
        signals,
        channel="web",
        actor=BOT,
        text=text,
        conversation_id=conversation.id,
        case_reference=case.reference,
    )
    assert flag.customer_id == customer.id and flag.kinds == ["asked_for_code"]
    assert "654321" not in flag.excerpt
    more = service.flag(
        seeded,
        service.detect_signals("还让我共享屏幕"),
        channel="web",
        actor=BOT,
        conversation_id=conversation.id,
    )
    assert more.id == flag.id and more.kinds == ["asked_for_code", "remote_control"]
    flagged = [timeline.event_data(e) for e in timeline.events(seeded, case) if e.kind == "action"]
    assert [d["signals"] for d in flagged if d.get("action") == "scam_flag"] == [
        ["asked_for_code"],
        ["remote_control"],
    ]
    agent = {"Authorization": f"Bearer {staff_token(client, seeded, 'agent')}"}
    on_case = client.get(
        "/api/v1/antifraud/flags", params={"case_reference": case.reference}, headers=agent
    ).json()
    assert [f["id"] for f in on_case] == [flag.id]
    queue = client.get("/api/v1/antifraud/flags", headers=agent).json()
    assert flag.id in [f["id"] for f in queue]
    assert (
        client.post(
            f"/api/v1/antifraud/flags/{flag.id}/handle", json={"note": "x"}, headers=agent
        ).status_code
        == 403
    )
    specialist = {"Authorization": f"Bearer {staff_token(client, seeded, 'specialist')}"}
    handled = client.post(
        f"/api/v1/antifraud/flags/{flag.id}/handle",
        json={"note": "called the customer, account frozen"},
        headers=specialist,
    )
    assert handled.status_code == 200 and handled.json()["status"] == "handled"
    assert flag.id not in [
        f["id"] for f in client.get("/api/v1/antifraud/flags", headers=agent).json()
    ]
