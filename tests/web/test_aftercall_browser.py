"""After a phone call an agent took, in Chromium: the carrier's webhooks (signed as Twilio
signs them) ring the live server, the caller waits for a person, the agent takes the call
and hangs up; the agent's notification leads to the after-call page, where they link the
caller's case, choose "waiting on the customer" (its draft fills the summary), edit it,
write wrap-up notes and send it. The caller gets the edited text by SMS, the case waits on
the customer, and the case page's timeline leads back to the page. Desktop and phone."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from tests.factories import STAFF_PASSWORD
from tests.integration.voice.carrier import CarrierCall
from tests.integration.voice.conftest import STUCK_TOPUP, phone_of
from tests.web.a11y import problems
from tests.web.conftest import LiveServer, held, screenshot
from tests.web.staff_login import sign_in

from kefu import audit, demo
from kefu.cases import service as cases_service
from kefu.cases.models import Case
from kefu.channels.models import OutboxMessage
from kefu.chat import routing
from kefu.chat.routing_models import WorkItem
from kefu.config import get_settings
from kefu.identity import service as identity_service
from kefu.voice.models import VoiceCall

TOKEN = "browser-test-carrier-token"
PUBLIC = "https://hotline.kefu.example"


@pytest.fixture
def signed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The live server checks carrier signatures against its public address."""
    monkeypatch.setenv("KEFU_VOICE_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("KEFU_VOICE_PUBLIC_URL", PUBLIC)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _carrier(server: LiveServer) -> httpx.Client:
    """Requests signed for the public address, delivered to the live server."""
    live = httpx.URL(server.url)

    def to_live(request: httpx.Request) -> None:
        request.url = request.url.copy_with(scheme=live.scheme, host=live.host, port=live.port)

    return httpx.Client(event_hooks={"request": [to_live]}, timeout=30)


def _call_taken_by_agent(server: LiveServer) -> str:
    with server.sessions() as db:
        demo.seed(db, history=False)
        agent = identity_service.create_staff(
            db, username="zhangmin", password=STAFF_PASSWORD, role="agent", display_name="客服 张敏"
        )
        routing.set_presence(db, agent, "online")
        db.commit()
    with _carrier(server) as client:
        call = CarrierCall(
            client=client,  # type: ignore[arg-type]
            token=TOKEN,
            base=PUBLIC,
            caller=phone_of(STUCK_TOPUP),
        )
        call.dial().press("1").press("0")  # Chinese, then a person
        with server.sessions() as db:
            item = db.scalar(select(WorkItem).where(WorkItem.call_sid == call.sid))
            staff = identity_service.get_staff_by_username(db, "zhangmin")
            assert item is not None and staff is not None
            routing.accept(db, item, staff)
            db.commit()
        call.wait()
        call.agent_hangs_up()
        call.hang_up()
    with server.sessions() as db:
        customer = identity_service.find_customer_by_contact(db, phone_of(STUCK_TOPUP))
        assert customer is not None
        cases_service.open_case(
            db,
            new=cases_service.NewCase(
                customer_id=customer.id,
                category="recharge_not_credited",
                channel="voice",
                subject="电话：充值未到账",
            ),
            actor=audit.Actor(name="staff:zhangmin", role="agent"),
            settings=get_settings(),
        )
        db.commit()
    return call.sid


def test_the_agent_writes_the_after_call_summary_from_the_notification(
    signed: None, live_server: LiveServer, browser: Browser
) -> None:
    sid = _call_taken_by_agent(live_server)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/console/login")
    page.get_by_label("用户名").fill("zhangmin")
    page.get_by_label("密码").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="坐席工作台")).to_be_visible()

    page.goto(f"{live_server.url}/console/notifications")
    item = page.locator(".notif-list-page .notif-item").filter(has_text="请写通话小结")
    expect(item).to_contain_text("通话小结")
    expect(item).to_contain_text("138****0002")
    item.get_by_role("button", name="打开并标为已读").click()
    expect(page).to_have_url(f"{live_server.url}/console/calls/{sid}")
    expect(page.get_by_role("heading", name="通话小结", exact=True)).to_be_visible()
    expect(page.locator("body")).to_contain_text("进入人工排队")

    with live_server.sessions() as db:
        case = db.scalar(select(Case).order_by(Case.id.desc()))
        assert case is not None
        reference = case.reference
    page.get_by_label("工单编号").fill(reference)
    page.get_by_role("button", name="关联", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("已关联工单")
    summary = page.get_by_label("发给客户的小结")
    expect(summary).to_have_value(re.compile("^【客服小结】本次通话已结束。"))
    expect(summary).to_have_value(re.compile("我们会继续处理"))
    page.get_by_label("等客户回复").check()
    expect(summary).to_have_value(re.compile("我们在等您回复"))
    summary.fill(summary.input_value() + "\n请把银行扣款短信截图回复给我们。")
    page.get_by_label("处理备注（仅内部）").fill(
        "客户 5 日 14:20 充值 300 元，银行已扣款；待客户提供扣款短信。"
    )
    assert problems(page) == []
    screenshot(page, "aftercall-desktop")
    page.get_by_role("button", name="发送小结").click()
    expect(page.get_by_role("status")).to_contain_text("小结已发给客户")
    expect(page.get_by_role("heading", name="小结已发送")).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "aftercall-sent-phone")

    with live_server.sessions() as db:
        sms = db.scalars(
            select(OutboxMessage.body)
            .where(OutboxMessage.destination == phone_of(STUCK_TOPUP))
            .order_by(OutboxMessage.id.desc())
        ).first()
        assert sms is not None and "请把银行扣款短信截图回复给我们" in sms and reference in sms
        kept = db.scalar(select(Case).where(Case.reference == reference))
        assert kept is not None and kept.status == "pending_customer"
        call = db.scalar(select(VoiceCall).where(VoiceCall.call_sid == sid))
        assert call is not None and call.notes is not None and "扣款短信" in call.notes

    page.get_by_role("link", name="查看时间线").click()
    expect(page.locator("#timeline")).to_contain_text("请把银行扣款短信截图回复给我们")
    # the case page's own link (the bell's panel, closed, holds one to the same page)
    page.locator("#main").locator(f'a[href="/console/calls/{sid}"]').first.click()
    expect(page.get_by_role("heading", name="小结已发送")).to_be_visible()
    context.close()


def test_what_the_agent_did_before_the_pages_script_ran_counts(
    signed: None, live_server: LiveServer, browser: Browser
) -> None:
    """An outcome chosen before aftercall.js ran gets its draft; words typed before it
    stay when the outcome changes after (it took them for its own draft)."""
    sid = _call_taken_by_agent(live_server)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    sign_in(live_server, page, "zhangmin")
    with live_server.sessions() as db:
        reference = db.scalar(select(Case.reference).order_by(Case.id.desc()))
    assert reference is not None
    page.goto(f"{live_server.url}/console/calls/{sid}")
    page.get_by_label("工单编号").fill(reference)
    page.get_by_role("button", name="关联", exact=True).click()
    summary = page.get_by_label("发给客户的小结")
    expect(summary).to_have_value(re.compile("我们会继续处理"))

    with held(page, "/static/voice/aftercall.js") as release:
        page.goto(f"{live_server.url}/console/calls/{sid}", wait_until="commit")
        page.get_by_label("等客户回复").check()
        release()
        page.wait_for_load_state("load")
    expect(summary).to_have_value(re.compile("我们在等您回复"))

    with held(page, "/static/voice/aftercall.js") as release:
        page.goto(f"{live_server.url}/console/calls/{sid}", wait_until="commit")
        summary.fill("已核实：银行已扣款，我们今天内给您答复。")
        release()
        page.wait_for_load_state("load")
    page.get_by_label("等客户回复").check()
    expect(summary).to_have_value("已核实：银行已扣款，我们今天内给您答复。")
    screenshot(page, "aftercall-typed-before-script")
    context.close()
