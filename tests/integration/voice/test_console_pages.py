"""The hotline in the agent's console: a customer's calls in their view (masked, in the
agent's language, newest first, limited), and the call-backs page where the number is
read (audited) and the call-back recorded done."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import make_staff
from tests.integration.voice.carrier import CarrierCall
from tests.integration.voice.conftest import STUCK_TOPUP, last_code, phone_of
from tests.integration.web.web_helpers import csrf, sign_in

from kefu.audit import AuditEvent
from kefu.chat import routing
from kefu.chat.routing_models import WorkItem
from kefu.identity import service as identity_service
from kefu.voice import views
from kefu.voice.models import VoiceCall, VoiceCallback

Ring = Callable[[str], CarrierCall]
FULL = "+8613800000002"


@pytest.fixture
def console(voice_app: FastAPI, demo_db: Session) -> Iterator[TestClient]:
    with TestClient(voice_app, raise_server_exceptions=False) as client:
        make_staff(demo_db, "agent", username="hotline_agent")
        demo_db.commit()
        sign_in(client, "hotline_agent")
        yield client


def customer_of(db: Session, call: CarrierCall) -> int:
    customer_id = db.scalar(select(VoiceCall.customer_id).where(VoiceCall.call_sid == call.sid))
    assert customer_id is not None
    return customer_id


def froze_by_keypad(ring: Ring, db: Session) -> CarrierCall:
    call = ring(phone_of(STUCK_TOPUP)).press("1").press("3").press("1")
    call.press(last_code(db, phone_of(STUCK_TOPUP))).press("1")
    call.end()
    return call


def asked_for_callback(ring: Ring) -> CarrierCall:
    return ring(phone_of(STUCK_TOPUP)).press("1").press("0").press("1").press("1")


def callback_of(db: Session, call: CarrierCall) -> VoiceCallback:
    row = db.scalar(select(VoiceCallback).join(VoiceCall).where(VoiceCall.call_sid == call.sid))
    assert row is not None
    return row


def test_the_customer_view_lists_the_calls_newest_first(
    ring: Ring, console: TestClient, demo_db: Session
) -> None:
    froze = froze_by_keypad(ring, demo_db)
    callback = asked_for_callback(ring)
    customer_id = customer_of(demo_db, froze)
    page = console.get(f"/console/customers/{customer_id}")
    assert page.status_code == 200
    section = page.text[page.text.index('id="calls-title"') :]
    assert section.index(callback.sid) < section.index(froze.sid)
    row = section[section.index(f'id="call-{froze.sid}"') :]
    row = row[: row.index("</tr>")]
    assert "138****0002" in row and "zh-CN" in row
    assert "主菜单 › 账户被盗、需要立即冻结账户" in row
    assert "注册手机来电 + 短信验证码" in row
    reference = re.search(r"KF-\d{4}-[0-9A-Z]{5}-[0-9A-Z]", row)
    assert reference is not None
    assert f"已冻结账户，工单 {reference.group()}" in row
    assert f"已告知来电人编号 {reference.group()}" in row
    assert "自助服务完成" in row and "通话 2分00秒" in row
    assert "登记了回电" in section and "登记回电" in section
    assert FULL not in page.text and "13800000002" not in page.text

    english = console.get(f"/console/customers/{customer_id}?lang=en")
    assert "Registered phone + SMS code" in english.text
    assert "Main menu › " in english.text and "Self-service" in english.text


def test_the_timeline_is_limited_and_all_calls_have_their_page(
    ring: Ring, console: TestClient, demo_db: Session
) -> None:
    first = froze_by_keypad(ring, demo_db)
    second = ring(phone_of(STUCK_TOPUP)).press("1").hang_up()
    customer_id = customer_of(demo_db, first)
    shown = views.customer_calls(demo_db, customer_id, "zh-CN", limit=1)
    assert shown.total == 2 and [c.call_sid for c in shown.calls] == [second.sid]
    assert shown.calls[0].outcome == "菜单中挂断" and shown.calls[0].verified == (
        "来电号码与注册手机相符，未验证"
    )
    everything = console.get(f"/console/customers/{customer_id}/calls")
    assert everything.status_code == 200
    assert first.sid in everything.text and second.sid in everything.text
    assert "共 2 通来电" in everything.text
    assert console.get("/console/customers/999999/calls").status_code == 404


def test_an_agent_reads_the_number_with_audit_and_records_the_call_back(
    ring: Ring, console: TestClient, demo_db: Session
) -> None:
    agent = identity_service.get_staff_by_username(demo_db, "hotline_agent")
    assert agent is not None
    routing.set_presence(demo_db, agent, "online")
    demo_db.commit()
    call = asked_for_callback(ring)
    row = callback_of(demo_db, call)
    item = demo_db.get(WorkItem, row.work_item_id)
    assert item is not None and (item.kind, item.offered_to_id) == ("callback", agent.id)
    routing.accept(demo_db, item, agent)
    demo_db.commit()
    inbox = console.get("/console/inbox")
    assert f'href="/console/callbacks#callback-{row.id}"' in inbox.text

    page = console.get("/console/callbacks")
    assert page.status_code == 200
    card = page.text[page.text.index(f'id="callback-{row.id}"') :]
    card = card[: card.index("</article>")]
    assert "138****0002" in card and "主菜单 › 人工服务" in card
    assert "来电号码与注册手机相符，未验证" in card and "登记了回电，工单 KF-" in card
    assert FULL not in page.text
    token = csrf(page.text)

    assert console.post(f"/console/callbacks/{row.id}/number").status_code == 403  # no CSRF
    revealed = console.post(f"/console/callbacks/{row.id}/number", data={"csrf_token": token})
    assert revealed.status_code == 200
    assert f'href="tel:{FULL}"' in revealed.text
    assert revealed.headers["cache-control"] == "no-store"
    read = demo_db.scalars(
        select(AuditEvent).where(AuditEvent.action == "voice.callback.number_read")
    ).all()
    assert len(read) == 1 and read[0].actor == "staff:hotline_agent"
    assert FULL not in (read[0].after or "")

    wrong = console.post(
        f"/console/callbacks/{row.id}/done", data={"csrf_token": token, "outcome": "maybe"}
    )
    assert wrong.status_code == 400 and 'role="alert"' in wrong.text
    done = console.post(
        f"/console/callbacks/{row.id}/done",
        data={"csrf_token": token, "outcome": "reached", "notes": "已回电，验证码 123456 未问"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    demo_db.refresh(row)
    assert (row.status, row.outcome) == ("done", "reached")
    assert row.notes is not None and "123456" not in row.notes
    demo_db.refresh(item)
    assert item.status == "finished"
    after = console.get(done.headers["location"])
    assert f"回电 #{row.id} 已完成。" in after.text
    assert f'id="callback-{row.id}"' not in after.text and f'id="done-{row.id}"' in after.text
    recent = after.text[after.text.index(f'id="done-{row.id}"') :]
    assert "hotline_agent" in recent[: recent.index("</tr>")] and "已接通" in recent

    again = console.post(
        f"/console/callbacks/{row.id}/done", data={"csrf_token": token, "outcome": "reached"}
    )
    assert again.status_code == 409 and 'role="alert"' in again.text


def test_the_call_backs_page_needs_a_signed_in_agent(voice_app: FastAPI) -> None:
    with TestClient(voice_app) as anonymous:
        page = anonymous.get("/console/callbacks", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/console/login"
