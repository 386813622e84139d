"""Dial the hotline through the phone simulator in Chromium: the keypad drives the same
signed webhooks a carrier would, through identity by SMS code, self-service, the queue and
a call-back; then an agent works the call-back in the console and finds the call in the
customer's view."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from tests.web.a11y import problems
from tests.web.conftest import LiveServer, screenshot

from kefu import demo
from kefu.audit import AuditEvent
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


def transcript_lines(page: Page) -> list[tuple[str, str]]:
    """Each transcript line with the marker a reader sees beside it ("decimal" is a number)."""
    lines: list[list[str]] = page.evaluate(
        "Array.from(document.querySelectorAll('#sim-transcript li'),"
        " (li) => [getComputedStyle(li).listStyleType, li.textContent])"
    )
    return [(marker, text) for marker, text in lines]


def test_dialling_through_the_simulator(signed: None, live_server: LiveServer, page: Page) -> None:
    with live_server.sessions() as db:
        demo.seed(db, history=False)
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
    code = code_sent_to(live_server, "+8613800000002")
    press(page, code)
    expect(transcript).to_contain_text("身份核实成功。")
    expect(transcript).to_contain_text("您的账户余额为")
    # the caller's keys are told as theirs, the code hidden; no line is numbered, so a
    # key press takes no number and no number beside "请按一" reads as a key
    lines = transcript_lines(page)
    pressed = [text for _, text in lines if text.startswith("您按了")]
    assert pressed == ["您按了 1", "您按了 2", "您按了 1", "您按了 1", "您按了 ••••••"]
    assert {marker for marker, _ in lines} == {"none"}
    assert code not in page.locator("#sim-transcript").inner_text()
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
        callback = db.scalar(select(VoiceCallback).where(VoiceCallback.call_id == call.id))
        assert callback is not None
    call_back_in_the_console(page, live_server, callback.id, call.reference_told)


def call_back_in_the_console(page: Page, server: LiveServer, callback_id: int, told: str) -> None:
    """The agent reads the number (audited), records the call-back, and finds the call in
    the customer's view."""
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{server.url}/console/login")
    page.get_by_label("用户名").fill("agent")
    page.get_by_label("密码").fill("kefu-agent-demo")
    page.get_by_label("密码").press("Enter")
    page.get_by_role("navigation").get_by_role("link", name="回电").click()
    card = page.locator(f"#callback-{callback_id}")
    expect(card).to_contain_text("138****0002")
    expect(card).to_contain_text(f"已告知来电人编号 {told}")
    expect(page.get_by_text("+8613800000002")).to_have_count(0)
    card.get_by_role("button", name="显示完整号码").click()
    card = page.locator(f"#callback-{callback_id}")
    expect(card.get_by_role("link", name="+8613800000002")).to_have_attribute(
        "href", "tel:+8613800000002"
    )
    assert problems(page) == []
    screenshot(page, "voice-console-callback-number")
    card.get_by_label("回电结果").select_option(label="已接通")
    card.get_by_label("备注（可选）").fill("已回电，余额问题已解答")
    card.get_by_role("button", name="完成回电").click()
    expect(page.get_by_role("status")).to_have_text(f"回电 #{callback_id} 已完成。")
    done = page.locator(f"#done-{callback_id}")
    expect(done).to_contain_text("张敏")
    done.get_by_role("link").click()
    calls = page.get_by_role("region", name="来电记录")
    expect(calls).to_contain_text("主菜单 › 充值、支付、转账和余额查询 › 查询余额")
    expect(calls).to_contain_text("查询了余额")
    expect(calls).to_contain_text("登记回电")
    expect(calls).to_contain_text(told)
    calls.scroll_into_view_if_needed()
    screenshot(page, "voice-console-customer-calls")
    with server.sessions() as db:
        read = db.scalar(
            select(AuditEvent).where(AuditEvent.action == "voice.callback.number_read")
        )
        assert read is not None and read.actor == "staff:agent"


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
    lines = transcript_lines(page)
    assert "You pressed 2" in [text for _, text in lines]
    assert {marker for marker, _ in lines} == {"none"}
    page.get_by_role("button", name="Hang up").click()
    expect(page.get_by_role("status")).to_have_text("Call ended")
    screenshot(page, "voice-simulator-en")


@pytest.fixture
def fresh_machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No espeak-ng on the PATH, as on a machine where only `make run` was done; a short
    keypad timeout so the test need not wait long for it."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("KEFU_VOICE_GATHER_TIMEOUT_SECONDS", "2")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


SPEECH_SPY = """
window.__spoken = [];
if (window.speechSynthesis) {
  const speak = window.speechSynthesis.speak.bind(window.speechSynthesis);
  window.speechSynthesis.speak = (utterance) => {
    window.__spoken.push([utterance.lang, utterance.text]);
    speak(utterance);
  };
}
"""


def test_without_espeak_the_browser_reads_the_prompts_and_the_timeout_waits(
    fresh_machine: None, live_server: LiveServer, page: Page
) -> None:
    with live_server.sessions() as db:
        demo.seed(db, history=False)
    prompt_answers: list[int] = []
    page.on(
        "response",
        lambda response: (
            prompt_answers.append(response.status) if "/voice/prompts/" in response.url else None
        ),
    )
    silences: list[float] = []
    page.on(
        "request",
        lambda request: (
            silences.append(time.monotonic())
            if request.url.endswith("/voice/simulator/steps")
            and '"silence"' in (request.post_data or "")
            else None
        ),
    )
    page.add_init_script(SPEECH_SPY)
    page.goto(f"{live_server.url}/voice/simulator?lang=zh-CN")
    simulator = page.locator(".sim")
    page.get_by_role("button", name="拨打").click()
    expect(page.locator("#sim-transcript")).to_contain_text("普通话服务请按一")
    expect(simulator).to_have_attribute("data-playing", "true")
    spoken: list[list[str]] = page.evaluate("window.__spoken")
    assert (
        spoken
        and spoken[0][0] == "zh-CN"
        and "普通话服务请按一" in "".join(text for _, text in spoken)
    )
    # the prompt is read (headless Chromium has no voices: its reading time), and only
    # then does the two-second keypad timeout start
    expect(simulator).to_have_attribute("data-playing", "false", timeout=60_000)
    heard = time.monotonic()
    assert silences == [], "the timeout ran out while the menu was still being read"
    deadline = time.monotonic() + 20
    while not silences and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert silences, "no keypad timeout after the prompt"
    assert silences[0] - heard >= 1.5
    assert prompt_answers == []  # no audio asked for, so no 503s
    screenshot(page, "voice-simulator-browser-speech")

    page.get_by_role("group", name="拨号键盘").get_by_role("button", name="1", exact=True).click()
    expect(page.locator("#sim-transcript")).to_contain_text("请选择您需要的服务。")
    assert prompt_answers == []
