"""The queue shared with live chat: position and wait while waiting, an agent put
through, the keypad survey after; call-backs instead of waiting; out of hours; hanging up
in the queue; the call record all along."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import make_staff
from tests.integration.voice.carrier import CarrierCall
from tests.integration.voice.conftest import BASE, STUCK_TOPUP, TOKEN, last_code, phone_of

from kefu import audit
from kefu.chat import routing
from kefu.chat.routing_models import WorkItem
from kefu.config import Settings, get_settings
from kefu.db import utcnow
from kefu.identity.models import StaffUser
from kefu.quality.models import ContactEvent, QualitySurvey
from kefu.voice import menu, menu_drafts
from kefu.voice.default_menu import DEFAULT_TREE
from kefu.voice.models import VoiceCall, VoiceCallback

Ring = Callable[[str], CarrierCall]
UNKNOWN = "+8613912345678"


def record(db: Session, call: CarrierCall) -> VoiceCall:
    found = db.scalar(select(VoiceCall).where(VoiceCall.call_sid == call.sid))
    assert found is not None
    db.refresh(found)
    return found


def items(db: Session, call: CarrierCall) -> list[WorkItem]:
    return list(
        db.scalars(select(WorkItem).where(WorkItem.call_sid == call.sid).order_by(WorkItem.id))
    )


def quality_kinds(db: Session, call: CarrierCall) -> list[str]:
    return list(
        db.scalars(
            select(ContactEvent.kind)
            .where(ContactEvent.call_sid == call.sid)
            .order_by(ContactEvent.id)
        )
    )


def online_agent(db: Session, username: str = "agent_phone") -> StaffUser:
    staff = make_staff(db, "agent", username=username)
    routing.set_presence(db, staff, "online")
    db.commit()
    return staff


def test_position_and_wait_are_said_and_refreshed(ring: Ring, demo_db: Session) -> None:
    first = ring(UNKNOWN).press("1").press("0")
    second = ring("+8613911112222").press("1").press("0")
    assert first.said("您是下一位")
    assert second.said("您前面还有一位客户，预计等待约")
    assert second.gather is not None
    assert second.gather.action.startswith("https://hotline.kefu.example/voice/queue/input?s=")
    assert second.gather.redirect is None  # the wait loop repeats by itself
    first.hang_up()
    second.wait()
    assert second.said("您是下一位")
    item = items(demo_db, second)[0]
    assert item.context["caller"] == "139****2222" and "13911112222" not in str(item.context)
    assert item.context["menu_path"] == ["main", "agent"]


def test_at_peak_a_call_back_is_offered_and_redialling_discouraged(
    ring: Ring, demo_db: Session
) -> None:
    call = ring(phone_of(STUCK_TOPUP)).press("1").press("0")
    # no agent online: the estimate is a whole handle time, above the offer threshold
    assert call.said("重复拨打不会更快接通") and call.said("如需我们稍后回电，请按一")
    call.press("1")
    assert call.said("我们将回电到尾号零零零二的号码")
    call.press("1")
    assert call.said("已为您登记回电") and call.said("已为您登记工单，编号为：")
    assert call.state == "ended"
    row = record(demo_db, call)
    assert (row.outcome, row.status) == ("callback", "ended")
    call_item, callback_item = items(demo_db, call)
    assert (call_item.status, call_item.cancel_reason) == ("cancelled", "callback")
    assert (callback_item.kind, callback_item.status) == ("callback", "waiting")
    callback = demo_db.scalar(select(VoiceCallback).where(VoiceCallback.call_id == row.id))
    assert callback is not None
    assert (callback.number, callback.number_masked) == ("+8613800000002", "138****0002")
    assert callback_item.context["callback_id"] == callback.id
    assert callback_item.context["callback_number"] == "138****0002"
    assert callback.case_id is not None and row.reference_told is not None
    kinds = quality_kinds(demo_db, call)
    assert "callback_requested" in kinds and "abandoned" not in kinds


def test_a_call_back_to_another_number_and_from_a_withheld_one(
    ring: Ring, demo_db: Session
) -> None:
    call = ring(UNKNOWN).press("1").press("0").press("1").press("2")
    assert call.said("请输入回电号码")
    call.press("12#")
    assert call.said("这不是一个有效的电话号码。")
    call.press("13700001111#")
    assert call.said("尾号幺幺幺幺")
    call.press("1")
    withheld = ring("anonymous").press("2").press("0").press("1")
    assert withheld.said("Please type the number to call you back on")
    withheld.press("13700002222#").press("1")
    assert withheld.said("Your call-back is booked.")
    numbers = demo_db.scalars(select(VoiceCallback.number).order_by(VoiceCallback.id))
    assert list(numbers)[-2:] == ["+8613700001111", "+8613700002222"]
    assert record(demo_db, withheld).caller_masked == "withheld"
    assert record(demo_db, call).reference_told is None  # an unknown caller gets no case


def test_an_agent_takes_the_call_then_the_keypad_survey(ring: Ring, demo_db: Session) -> None:
    staff = online_agent(demo_db)
    call = ring(phone_of(STUCK_TOPUP)).press("1").press("0")
    item = items(demo_db, call)[0]
    assert (item.status, item.offered_to_id) == ("offered", staff.id)
    routing.accept(demo_db, item, staff)
    demo_db.commit()
    call.wait()
    assert call.said("客服已经准备好，正在为您接通。")
    assert call.state == "agent" and call.agent == staff.username
    assert record(demo_db, call).agent_staff_id == staff.id
    call.agent_hangs_up()
    assert call.state == "menu"  # the survey's question
    call.press("5")
    while call.state == "menu" and call.gather is not None:
        call.press("1")
    assert call.state == "ended"
    row = record(demo_db, call)
    assert (row.outcome, row.survey_score, row.queue_wait_seconds) == ("agent", 5, 60)
    demo_db.refresh(item)
    assert item.status == "finished"
    kinds = quality_kinds(demo_db, call)
    assert {"contact_arrived", "queued", "answered_by_agent"} <= set(kinds)
    assert kinds[-1] == "contact_ended"
    survey = demo_db.scalar(select(QualitySurvey).where(QualitySurvey.call_sid == call.sid))
    assert survey is not None
    assert (survey.channel, survey.score, survey.staff_id) == ("keypad", 5, staff.id)


def test_an_agent_who_does_not_answer_puts_the_caller_back(ring: Ring, demo_db: Session) -> None:
    staff = online_agent(demo_db)
    call = ring(UNKNOWN).press("1").press("0")
    routing.accept(demo_db, items(demo_db, call)[0], staff)
    demo_db.commit()
    call.wait()
    call.agent_hangs_up(answered=False)
    assert call.said("客服未能接听，正在为您重新排队")
    assert call.state == "queue"
    first, again = items(demo_db, call)
    assert (first.status, first.cancel_reason) == ("cancelled", "agent_no_answer")
    assert again.status in ("waiting", "offered")


def test_hanging_up_in_the_queue_is_an_abandoned_call(ring: Ring, demo_db: Session) -> None:
    call = ring(UNKNOWN).press("1").press("5")
    call.hang_up()
    row = record(demo_db, call)
    assert (row.status, row.outcome) == ("ended", "abandoned")
    assert row.queue_wait_seconds == 40
    item = items(demo_db, call)[0]
    assert (item.status, item.cancel_reason) == ("cancelled", "hung_up")
    assert quality_kinds(demo_db, call).count("abandoned") == 1


@pytest.fixture
def closed(voice_app: FastAPI, voice_settings: Settings) -> Settings:
    """Agents answer only in a one-minute window that has just passed."""
    now = (utcnow() - timedelta(minutes=5)).astimezone(voice_settings.tz)
    window = f"{now:%a} {now:%H}:00-{now:%H}:01".lower()
    limited = Settings(**{**voice_settings.model_dump(), "voice_service_hours": window})
    voice_app.dependency_overrides[get_settings] = lambda: limited
    return limited


def test_out_of_hours_a_call_back_is_offered_and_self_service_still_works(
    closed: Settings, ring: Ring, demo_db: Session
) -> None:
    call = ring(phone_of(STUCK_TOPUP)).press("1").press("0")
    assert call.said("现在是人工服务时间以外") and call.said("如需我们在服务时间内回电，请按一")
    assert items(demo_db, call) == []
    call.press("*").press("2").press("1").press("1")
    call.press(last_code(demo_db, phone_of(STUCK_TOPUP)))
    assert call.said("您的账户余额为")
    call.press("0").press("1").press("1")
    assert call.said("已为您登记回电")
    assert [item.kind for item in items(demo_db, call)] == ["callback"]


def test_a_status_callback_for_a_call_never_seen_is_kept(ring: Ring, demo_db: Session) -> None:
    call = ring(UNKNOWN)
    ghost = CarrierCall(client=call.client, token=call.token, base=call.base, caller=UNKNOWN)
    ghost.end(status="no-answer")
    row = record(demo_db, ghost)
    assert (row.status, row.outcome, row.caller_masked) == ("ended", "failed", "139****5678")
    ghost.end()  # a second callback changes nothing
    assert record(demo_db, ghost).outcome == "failed"


def test_a_menu_option_can_book_a_call_back_directly(ring: Ring, demo_db: Session) -> None:
    tree = copy.deepcopy(DEFAULT_TREE)
    tree["nodes"]["book"] = {"kind": "action", "action": "callback", "next": "main"}
    tree["nodes"]["main"]["options"].append(
        {"key": "7", "label": {"zh-CN": "预约回电", "en": "a call-back"}, "to": "book"}
    )
    menu.publish(demo_db, tree, actor=audit.Actor.system())
    demo_db.commit()
    call = ring(UNKNOWN).press("1")
    assert call.said("预约回电请按七。")
    call.press("7")
    assert call.said("我们将回电到尾号五六七八的号码")
    call.press("1")
    assert call.said("已为您登记回电")
    assert [item.kind for item in items(demo_db, call)] == ["callback"]


def test_a_call_trying_the_menu_draft_never_rings_real_agents(
    voice_app: FastAPI, ring: Ring, demo_db: Session
) -> None:
    online_agent(demo_db)
    real = ring(UNKNOWN).press("1").press("0")
    assert items(demo_db, real) and real.state == "queue"
    sid = "CASIM" + "d" * 32
    menu_drafts.start_trial(demo_db, sid, actor=audit.Actor("staff:boss", "admin"))
    demo_db.commit()
    with TestClient(voice_app, raise_server_exceptions=False) as client:
        trial = CarrierCall(client=client, token=TOKEN, base=BASE, caller=UNKNOWN, sid=sid)
        trial.dial().press("1").press("0")
    assert trial.said("试拨：正式来电会在这里转接人工客服") and trial.said("一线客服")
    assert trial.state == "ended" and items(demo_db, trial) == []
