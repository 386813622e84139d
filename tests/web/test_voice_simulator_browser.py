"""Dial the hotline through the phone simulator in Chromium: the keypad drives the same
signed webhooks a carrier would, through identity by SMS code, self-service, the queue and
a call-back."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from tests.web.conftest import LiveServer, screenshot

from kefu import demo
from kefu.channels.models import OutboxMessage
from kefu.config import get_settings
from kefu.voice.models import VoiceCall, VoiceCallback


@pytest.fixture
def signed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The live server insists on carrier signatures, as in production."""
    monkeypatch.setenv("KEFU_VOICE_AUTH_TOKEN", "browser-test-carrier-token")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def press(page: Page, keys: str) -> None:
    for key in keys:
        page.get_by_role("group", name="拨号键盘").get_by_role(
            "button", name=key, exact=True
        ).click()


def code_sent_to(server: LiveServer, phone: str) -> str:
    with server.sessions() as db:
        body = db.scalars(
            select(OutboxMessage.body)
            .where(OutboxMessage.destination == phone, OutboxMessage.purpose == "otp")
            .order_by(OutboxMessage.id.desc())
        ).first()
    assert body is not None
    found = re.search(r"\b\d{6}\b", body)
    assert found is not None
    return found.group()


def test_dialling_through_the_simulator(signed: None, live_server: LiveServer, page: Page) -> None:
    with live_server.sessions() as db:
        demo.seed(db)
    page.goto(f"{live_server.url}/voice/simulator?lang=zh-CN")
    expect(page.get_by_role("heading", name="电话模拟器")).to_be_visible()
    transcript = page.locator("#sim-transcript")
    status = page.get_by_role("status")
    expect(page.get_by_label("来电号码")).to_have_value("13800000002")
    page.get_by_role("button", name="拨打").click()
    expect(transcript).to_contain_text("普通话服务请按一")
    expect(status).to_have_text("等待按键")

    press(page, "1")
    expect(transcript).to_contain_text("请选择您需要的服务。")
    press(page, "2")
    expect(transcript).to_contain_text("查询余额请按一")
    press(page, "1")
    expect(transcript).to_contain_text("尾号零零零二的注册手机")
    press(page, "1")
    expect(transcript).to_contain_text("请输入六位短信验证码")
    press(page, code_sent_to(live_server, "+8613800000002"))
    expect(transcript).to_contain_text("身份核实成功。")
    expect(transcript).to_contain_text("您的账户余额为")
    screenshot(page, "voice-simulator-balance-zh")

    press(page, "0")
    expect(status).to_have_text("排队等待人工客服")
    expect(transcript).to_contain_text("正在为您转接人工客服。")
    expect(transcript).to_contain_text("如需我们稍后回电，请按一")
    press(page, "1")
    expect(transcript).to_contain_text("我们将回电到尾号零零零二的号码")
    press(page, "1")
    expect(transcript).to_contain_text("已为您登记回电")
    expect(transcript).to_contain_text("已为您登记工单，编号为：")
    expect(status).to_have_text("通话已结束")
    screenshot(page, "voice-simulator-callback-zh")

    with live_server.sessions() as db:
        call = db.scalars(select(VoiceCall).order_by(VoiceCall.id.desc())).first()
        assert call is not None and call.call_sid.startswith("CASIM")
        assert (call.status, call.outcome, call.identified_by) == ("ended", "callback", "caller_id")
        assert call.reference_told is not None
        assert db.scalar(select(VoiceCallback).where(VoiceCallback.call_id == call.id))


def test_the_simulator_in_english_on_a_phone_screen(
    signed: None, live_server: LiveServer, page: Page
) -> None:
    page.goto(f"{live_server.url}/voice/simulator?lang=en")
    expect(page.get_by_role("heading", name="Phone simulator")).to_be_visible()
    page.get_by_label("Calling from").fill("anonymous")
    page.get_by_role("button", name="Call").click()
    transcript = page.locator("#sim-transcript")
    expect(transcript).to_contain_text("For English, press two.")
    page.keyboard.press("2")  # the computer keyboard works as the keypad
    expect(transcript).to_contain_text("Please choose a service.")
    page.get_by_role("button", name="Hang up").click()
    expect(page.get_by_role("status")).to_have_text("Call ended")
    screenshot(page, "voice-simulator-en")
