"""A call scored in QA shows beside the rubric: its menu path, outcome and every step,
from the voice records of a call walked through the carrier's webhooks."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import make_staff
from tests.integration.quality.helpers import console_login
from tests.integration.voice.carrier import CarrierCall
from tests.integration.voice.conftest import STUCK_TOPUP, phone_of

from kefu import audit
from kefu.chat import routing
from kefu.chat.routing_models import WorkItem
from kefu.quality import qa
from kefu.quality.models import QualityContactRef

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
