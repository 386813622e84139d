"""After a call with a person, walked through the carrier's webhooks: the QA review shows
the call beside the rubric (menu path, outcome, every step), and the caller receives the
written summary the agent checked, through the staff API."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import make_staff, staff_token
from tests.integration.quality.helpers import console_login
from tests.integration.voice.carrier import CarrierCall
from tests.integration.voice.conftest import STUCK_TOPUP, phone_of

from kefu import audit
from kefu.cases import service as cases_service
from kefu.channels import outbox
from kefu.chat import routing
from kefu.chat.routing_models import WorkItem
from kefu.config import get_settings
from kefu.identity import service as identity_service
from kefu.notifications.models import StaffNotification
from kefu.quality import qa
from kefu.quality.models import QualityContactRef
from kefu.voice import calls

Ring = Callable[[str], CarrierCall]


def test_the_review_page_shows_the_calls_path_and_steps(
    ring: Ring, demo_db: Session, voice_app: FastAPI
) -> None:
    agent = make_staff(demo_db, "agent")
    routing.set_presence(demo_db, agent, "online")
    demo_db.commit()
    call = ring(phone_of(STUCK_TOPUP)).press("1").press("0")  # Chinese, then a person
    item = demo_db.scalar(select(WorkItem).where(WorkItem.call_sid == call.sid))
    assert item is not None
    routing.accept(demo_db, item, agent)
    demo_db.commit()
    call.wait()
    call.agent_hangs_up()
    call.hang_up()
    demo_db.expire_all()
    contact_id = demo_db.scalar(
        select(QualityContactRef.contact_id).where(QualityContactRef.ref == f"call:{call.sid}")
    )
    assert contact_id is not None
    boss = make_staff(demo_db, "supervisor")
    review = qa.add_contact(
        demo_db, contact_id=contact_id, actor=audit.Actor(name="staff:x", role="supervisor")
    )
    demo_db.commit()
    with TestClient(voice_app) as client:
        console_login(client, demo_db, boss)
        page = client.get(f"/console/quality/reviews/{review.id}")
    assert page.status_code == 200
    text = page.text
    assert "被评估的联络" in text and "菜单路径" in text
    assert "来电接通" in text and "选择语言" in text and "进入人工排队" in text
    assert "坐席接听" in text or "已分配坐席" in text
    assert "通话结束" in text
    assert "没有可显示" not in text


def test_after_the_call_the_caller_gets_the_summary_the_agent_checked(
    ring: Ring, demo_db: Session, voice_app: FastAPI
) -> None:
    agent = make_staff(demo_db, "agent")
    routing.set_presence(demo_db, agent, "online")
    demo_db.commit()
    call = ring(phone_of(STUCK_TOPUP)).press("1").press("0")
    item = demo_db.scalar(select(WorkItem).where(WorkItem.call_sid == call.sid))
    assert item is not None
    routing.accept(demo_db, item, agent)
    demo_db.commit()
    call.wait()
    call.agent_hangs_up()
    call.hang_up()
    customer = identity_service.find_customer_by_contact(demo_db, phone_of(STUCK_TOPUP))
    assert customer is not None and customer.phone is not None
    case = cases_service.open_case(
        demo_db,
        new=cases_service.NewCase(
            customer_id=customer.id,
            category="recharge_not_credited",
            channel="voice",
            subject="电话：充值未到账",
        ),
        actor=audit.Actor(name=f"staff:{agent.username}", role="agent"),
        settings=get_settings(),
    )
    demo_db.commit()
    with TestClient(voice_app) as client:
        auth = {"Authorization": f"Bearer {staff_token(client, demo_db, 'agent')}"}
        url = f"/api/v1/voice/calls/{call.sid}/summary"
        early = client.post(url, json={"outcome": "open"}, headers=auth)
        assert early.status_code == 409  # no case linked yet: nothing to refer to
        linked = client.patch(
            f"/api/v1/voice/calls/{call.sid}", json={"case": case.reference}, headers=auth
        )
        assert linked.status_code == 200, linked.text
        drafts = client.get(url, headers=auth).json()["drafts"]
        assert set(drafts) == {"solved", "open", "waiting"}
        assert "本次通话已结束" in drafts["waiting"] and case.reference in drafts["waiting"]
        assert "等您回复" in drafts["waiting"]
        edited = drafts["waiting"] + "\n请把银行扣款短信截图回复给我们。"
        sent = client.post(url, json={"outcome": "waiting", "text": edited}, headers=auth)
        assert sent.status_code == 200, sent.text
        assert sent.json() == {
            "case": case.reference,
            "case_status": "pending_customer",
            "text": edited,
        }
        again = client.post(url, json={"outcome": "waiting"}, headers=auth)
        assert again.status_code == 409
        for bad in ({"outcome": "maybe"}, {"outcome": "open", "text": "长" * 1001}):
            assert client.post(url, json=bad, headers=auth).status_code == 422
    texts = [m.body for m in outbox.latest(demo_db, limit=10, to=customer.phone)]
    assert texts.count(edited) == 1
    steps = [e.kind for e in calls.events(demo_db, calls.require(demo_db, call.sid))]
    assert steps[-1] == "summary_sent"


def test_the_after_call_page_refuses_with_the_reason_and_keeps_the_words(
    ring: Ring, demo_db: Session, voice_app: FastAPI
) -> None:
    agent = make_staff(demo_db, "agent")
    routing.set_presence(demo_db, agent, "online")
    demo_db.commit()
    call = ring(phone_of(STUCK_TOPUP)).press("1").press("0")
    item = demo_db.scalar(select(WorkItem).where(WorkItem.call_sid == call.sid))
    assert item is not None
    routing.accept(demo_db, item, agent)
    demo_db.commit()
    call.wait()
    call.agent_hangs_up()
    call.hang_up()
    told = demo_db.scalar(
        select(StaffNotification).where(
            StaffNotification.staff_id == agent.id, StaffNotification.kind == "after_call"
        )
    )
    assert told is not None and told.link == f"/console/calls/{call.sid}"
    unanswered = ring(phone_of(STUCK_TOPUP)).press("1")
    unanswered.hang_up()
    customer = identity_service.find_customer_by_contact(demo_db, phone_of(STUCK_TOPUP))
    assert customer is not None
    case = cases_service.open_case(
        demo_db,
        new=cases_service.NewCase(
            customer_id=customer.id,
            category="recharge_not_credited",
            channel="voice",
            subject="电话：充值未到账",
        ),
        actor=audit.Actor(name=f"staff:{agent.username}", role="agent"),
        settings=get_settings(),
    )
    demo_db.commit()
    with TestClient(voice_app) as client:
        csrf = console_login(client, demo_db, agent)
        url = f"/console/calls/{call.sid}"
        unlinked = client.post(
            f"{url}/summary", data={"csrf_token": csrf, "outcome": "open", "notes": "记一下"}
        )
        assert unlinked.status_code == 409 and "请先关联工单" in unlinked.text
        wrong = client.post(f"{url}/case", data={"csrf_token": csrf, "case": "KF-0000-00000-0"})
        assert wrong.status_code in (400, 404) and 'id="ac-problem"' in wrong.text
        linked = client.post(f"{url}/case", data={"csrf_token": csrf, "case": case.reference})
        assert linked.status_code == 200 and "已关联工单" in linked.text
        too_long = client.post(
            f"{url}/summary",
            data={"csrf_token": csrf, "outcome": "open", "summary": "长" * 1001, "notes": "备注甲"},
        )
        assert too_long.status_code == 400 and "小结太长" in too_long.text
        assert "长" * 1001 in too_long.text and "备注甲" in too_long.text  # nothing lost
        sent = client.post(
            f"{url}/summary",
            data={"csrf_token": csrf, "outcome": "solved", "summary": "", "notes": "备注乙"},
        )
        assert sent.status_code == 200 and "小结已发给客户" in sent.text
        again = client.post(f"{url}/summary", data={"csrf_token": csrf, "outcome": "open"})
        assert again.status_code == 409 and "已经发过了" in again.text
        nobody = client.post(
            f"/console/calls/{unanswered.sid}/summary", data={"csrf_token": csrf, "outcome": "open"}
        )
        assert nobody.status_code == 409 and "没有坐席接听" in nobody.text
    demo_db.expire_all()
    assert cases_service.get_case(demo_db, case.reference).status == "resolved"
    texts = [m.body for m in outbox.latest(demo_db, limit=5, to=customer.phone)]
    assert any("本次通话已结束" in body and case.reference in body for body in texts)
