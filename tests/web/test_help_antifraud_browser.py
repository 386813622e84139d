"""The help center's anti-fraud pages in Chromium, phone-sized first: reporting a number
straight from a "not ours" verdict (with a screenshot, and a refused file), and "is
someone from you calling me?" end to end: an agent registers the call, the customer
verifies with the code from the demo outbox and is told who is calling; with no call
registered, or from another number, they are told to hang up."""

from __future__ import annotations

import re
from dataclasses import dataclass

from playwright.sync_api import Browser, Page, expect
from tests.web.a11y import problems
from tests.web.conftest import LiveServer, screenshot

from kefu import audit
from kefu.antifraud import service as antifraud_service
from kefu.antifraud.models import ScamReport
from kefu.cases import service as cases_service
from kefu.config import get_settings
from kefu.identity import service as identity_service
from kefu.kb import service as kb_service

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
UNKNOWN_NUMBER = "17100003333"


@dataclass(frozen=True)
class Called:
    phone: str
    reference: str
    agent_number: str


def _seed(server: LiveServer) -> None:
    with server.sessions() as db:
        kb_service.load_shipped_articles(db)
        antifraud_service.seed_demo(db)
        db.commit()


def _customer(server: LiveServer, phone: str, *, name: str, language: str = "zh-CN") -> int:
    with server.sessions() as db:
        customer = identity_service.create_customer(
            db,
            wallet_account_id=f"W{phone[-9:]}",
            name=name,
            phone=phone,
            language=language,
        )
        db.commit()
        return customer.id


def _register_call(server: LiveServer, customer_id: int) -> Called:
    """What an agent does before calling: a case of the customer's and the call on record."""
    with server.sessions() as db:
        staff = identity_service.create_staff(
            db, username="zhangmin", password="kefu-agent-demo", role="agent"
        )
        case = cases_service.open_case(
            db,
            new=cases_service.NewCase(
                customer_id=customer_id,
                category="recharge_not_credited",
                channel="web",
                subject="充值未到账",
                description="充值 200 元没到账",
            ),
            actor=audit.Actor(name=f"customer:{customer_id}", role="customer"),
            settings=get_settings(),
        )
        call = antifraud_service.register_outbound_call(
            db,
            staff_id=staff.id,
            agent_name="张敏",
            customer_id=customer_id,
            reason="核实您的充值退款",
            case_reference=case.reference,
            actor=audit.Actor(name=f"staff:{staff.username}", role="agent"),
        )
        customer = identity_service.get_customer(db, customer_id)
        db.commit()
        return Called(
            phone=customer.phone or "",
            reference=case.reference,
            agent_number=f"{call.staff_id:04d}",
        )


def _verify(page: Page, server: LiveServer, phone: str) -> None:
    """From the call page's form to the answer, with the code from the demo outbox."""
    page.get_by_label("手机号或邮箱").fill(phone)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_role("heading", name="输入验证码")).to_be_visible()
    expect(page.get_by_role("note").first).to_contain_text("念给他听")
    assert problems(page) == []
    screenshot(page, "help-calls-code")
    outbox = page.context.new_page()
    outbox.goto(f"{server.url}/dev/outbox")
    code = re.search(r"\d{6}", outbox.locator("pre.outbox-body").first.inner_text())
    assert code
    outbox.close()
    page.get_by_label("6 位验证码").fill(code.group(0))
    page.get_by_role("button", name="验证并核实来电").click()
    expect(page).to_have_url(f"{server.url}/help/calling-me")


def test_report_a_number_from_its_verdict(live_server: LiveServer, page: Page) -> None:
    _seed(live_server)
    page.goto(f"{live_server.url}/help#verify")
    page.get_by_label("电话号码、网址、邮箱或微信号").fill(UNKNOWN_NUMBER)
    page.get_by_role("button", name="核验", exact=True).click()
    verdict = page.locator("[data-verify-result] .verdict-not_official")
    expect(verdict).to_contain_text("不是我们的官方渠道")
    verdict.get_by_role("link", name="举报这个号码或网址").click()

    expect(page.get_by_role("heading", name="举报可疑号码/网站")).to_be_visible()
    expect(page.get_by_label("可疑的号码、网址、邮箱或账号")).to_have_value("171 0000 3333")
    page.get_by_label("发生了什么（选填）").fill(
        "自称钱包客服，说我的账户异常，要我把钱转到安全账户"
    )
    shots = page.get_by_label("截图（选填）")
    shots.set_input_files(
        files=[{"name": f"{n}.png", "mimeType": "image/png", "buffer": PNG} for n in range(4)]
    )  # refused in the browser before anything is uploaded
    assert "一次最多上传 3 张截图" in shots.evaluate("input => input.validationMessage")
    shots.set_input_files(
        files=[{"name": "call.exe", "mimeType": "image/png", "buffer": b"MZ\x90\x00 nope"}]
    )
    assert shots.evaluate("input => input.validationMessage") == ""
    page.get_by_role("button", name="提交举报").click()
    expect(page.get_by_role("alert")).to_contain_text("截图只接受 PNG、JPEG、GIF 或 WebP 图片")
    expect(page.get_by_label("发生了什么（选填）")).to_have_value(re.compile("安全账户"))
    assert problems(page) == []
    screenshot(page, "help-report-refused")

    expect(shots).to_have_attribute("aria-invalid", "true")
    shots.set_input_files(files=[{"name": "call.png", "mimeType": "image/png", "buffer": PNG}])
    page.get_by_role("button", name="提交举报").click()
    expect(page.get_by_role("heading", name="谢谢您的举报")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("目前共被举报 1 次")
    expect(page.get_by_role("status")).to_contain_text("已收到 1 张截图")
    expect(page.get_by_role("heading", name="接下来会怎样")).to_be_visible()
    expect(page.get_by_role("link", name="95099")).to_have_attribute("href", "tel:95099")
    assert problems(page) == []
    screenshot(page, "help-report-thanks-zh-phone")
    with live_server.sessions() as db:
        report = db.query(ScamReport).one()
        assert (report.normalised, report.report_count) == ("+8617100003333", 1)


def test_report_form_from_contact_us_in_english(live_server: LiveServer, browser: Browser) -> None:
    _seed(live_server)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.goto(f"{live_server.url}/help/contact")
    page.get_by_role("link", name="Report a suspicious number, site or account").click()
    expect(
        page.get_by_role("heading", name="Report a suspicious number, site or account")
    ).to_be_visible()
    page.get_by_label("The suspicious number, web address, e-mail or account").fill(
        "kefu-wa11et.com.cn"
    )
    assert problems(page) == []
    screenshot(page, "help-report-form-en-desktop")
    page.get_by_role("button", name="Send report").click()  # no screenshot chosen
    expect(page.get_by_role("heading", name="Thank you for your report")).to_be_visible()
    screenshot(page, "help-report-thanks-en-desktop")
    context.close()


def test_a_registered_call_is_confirmed_end_to_end(live_server: LiveServer, page: Page) -> None:
    _seed(live_server)
    called = _register_call(live_server, _customer(live_server, "13900005555", name="王芳"))
    page.goto(f"{live_server.url}/help")
    page.get_by_role("link", name="核实来电").click()
    expect(page.get_by_role("heading", name="核实来电")).to_be_visible()
    assert problems(page) == []
    screenshot(page, "help-calls-start")
    _verify(page, live_server, called.phone)

    answer = page.locator(".call-answer")
    expect(answer).to_contain_text("是我们在给您打电话")
    expect(answer).to_contain_text("张敏")
    expect(answer).to_contain_text(f"工号 {called.agent_number}")
    expect(answer.get_by_role("link", name=called.reference)).to_be_visible()
    expect(answer).to_contain_text("021 6080 9595")
    assert problems(page) == []
    screenshot(page, "help-calls-yes-zh-phone")

    # the number on the screen is not ours: hang up, and report it
    page.get_by_label("来电显示的号码（选填）").fill("170 1234 5678")
    page.get_by_role("button", name="核实", exact=True).click()
    expect(answer).to_contain_text("没有我们的工作人员在给您打电话")
    expect(answer).to_contain_text("请挂断 170 1234 5678")
    assert problems(page) == []
    screenshot(page, "help-calls-spoofed")
    answer.get_by_role("link", name="举报这个号码").click()
    expect(page.get_by_label("可疑的号码、网址、邮箱或账号")).to_have_value("170 1234 5678")

    page.goto(f"{live_server.url}/help/calling-me?lang=en")
    expect(page.locator(".call-answer")).to_contain_text("Yes, this call is from us")
    screenshot(page, "help-calls-yes-en-phone")


def test_with_no_call_registered_the_answer_is_hang_up(live_server: LiveServer, page: Page) -> None:
    _seed(live_server)
    phone = "13900006666"
    _customer(live_server, phone, name="李雷")
    page.goto(f"{live_server.url}/help/calling-me")
    _verify(page, live_server, phone)
    answer = page.get_by_role("alert")
    expect(answer).to_contain_text("没有我们的工作人员在给您打电话")
    expect(answer).to_contain_text("请立即挂断")
    expect(answer.get_by_role("link", name="95099")).to_have_attribute("href", "tel:95099")
    assert problems(page) == []
    screenshot(page, "help-calls-none-zh-phone")
    page.get_by_role("button", name="退出查询").click()
    page.goto(f"{live_server.url}/help/calling-me")
    expect(page.get_by_label("手机号或邮箱")).to_be_visible()
