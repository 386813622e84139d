"""The agent's case workspace in Chromium: find a mailed-in case by a Chinese word, open
it, reply by mail (sent through the SMTP sender to a real SMTP server, threaded to the
customer's mail), note with a mention, assign, escalate, merge a duplicate, resolve.
Screenshots at desktop and phone size go to var/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Page, expect
from sqlalchemy import select
from tests.integration.email.mail_processes import free_port
from tests.web.conftest import LiveServer, screenshot
from tests.web.staff_login import make_and_sign_in

from kefu import audit
from kefu.cases import service as cases_service
from kefu.cases.models import Case, CaseNotification
from kefu.channels.email import outgoing
from kefu.channels.email.models import EmailMessage
from kefu.channels.senders import build_senders
from kefu.config import get_settings
from kefu.identity import service as identity_service
from kefu.inbound.email import intake

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
FIRST_MAIL = b"""From: =?utf-8?b?5byg5Lyf?= <zhang.wei@example.cn>
To: support@kefu-wallet.com.cn
Subject: =?utf-8?b?5YWF5YC85aSx6LSl77yM6ZKx5bey5omj?=
Message-ID: <journey-first@example.cn>
Date: Sun, 06 Dec 2026 08:00:00 +0800
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

""" + "我昨天用银行卡充值200元，银行已经扣款，但是钱包余额没有变化。".encode()


class _Inbox:
    def __init__(self) -> None:
        self.received: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.received.append(message_from_bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, _Inbox]]:
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def _open(page: Page, summary: str) -> None:
    page.locator("summary").filter(has_text=re.compile(f"^{summary}$")).click()


def _submit(page: Page, action: str) -> None:
    page.locator(f"form[action$='/{action}']").get_by_role("button").click()


def _seed(server: LiveServer) -> tuple[str, str]:
    settings = get_settings()
    now = datetime.now(UTC)
    with server.sessions() as db:
        identity_service.create_staff(
            db, username="lisi", password="x" * 12, role="specialist", display_name="二线 李四"
        )
        customer = identity_service.create_customer(
            db,
            wallet_account_id="W555000111",
            name="张伟",
            phone="13800000009",
            email="zhang.wei@example.cn",
        )
        mail = intake.receive(
            db,
            raw=FIRST_MAIL,
            source="smtp",
            envelope_from="zhang.wei@example.cn",
            envelope_to=["support@kefu-wallet.com.cn"],
            now=now,
        )
        mailed = intake.process(db, mail_id=mail.id, settings=settings, now=now)
        duplicate = cases_service.open_case(
            db,
            new=cases_service.NewCase(
                customer_id=customer.id,
                category="recharge_not_credited",
                channel="web",
                subject="充值没到账",
                description="网页上再问一次：充值的200元还没到。",
            ),
            actor=audit.Actor(name=f"customer:{customer.id}", role="customer"),
            settings=settings,
            now=now,
        )
        db.commit()
        assert mailed.case_reference is not None
        return mailed.case_reference, duplicate.reference


def test_agent_works_a_mailed_case_from_search_to_resolution(
    live_server: LiveServer, page: Page, smtp_server: tuple[int, _Inbox]
) -> None:
    reference, duplicate = _seed(live_server)
    page.set_viewport_size(DESKTOP)
    make_and_sign_in(live_server, page, username="zhao", role="agent", display_name="坐席 赵敏")

    # the console's own search box finds the case by a Chinese word
    page.get_by_label("查找客户").fill("扣款")
    page.get_by_role("button", name="查找客户").click()
    expect(page.locator("mark").first).to_have_text("扣款")
    page.get_by_role("link", name=reference).first.click()
    expect(page.get_by_role("heading", name="充值失败，钱已扣")).to_be_visible()
    expect(page.locator(".ev-message").first).to_contain_text("银行已经扣款")

    # reply by mail, in the customer's mail thread
    page.get_by_label("回复内容（客户可见）").fill(
        "张先生您好，我们已向银行核查这笔充值，今天内回复您。"
    )
    expect(page.get_by_label("发送渠道")).to_have_value("email")
    page.get_by_role("button", name="发送回复").click()
    expect(page.get_by_role("status")).to_contain_text("回复已发出")
    port, inbox = smtp_server
    smtp_settings = get_settings().model_copy(
        update={
            "email_backend": "smtp",
            "smtp_relay_host": "127.0.0.1",
            "smtp_relay_port": port,
            "email_from": "Kefu <support@kefu-wallet.com.cn>",
        }
    )
    with live_server.sessions() as db:
        queued = db.scalars(
            select(EmailMessage).where(
                EmailMessage.case_reference == reference,
                EmailMessage.direction == "out",
                EmailMessage.purpose == "reply",
            )
        ).all()
        assert len(queued) == 1
        # what the send_email job runs, with the SMTP sender
        outgoing.send(
            db,
            email_message_id=queued[0].id,
            senders=build_senders(smtp_settings),
            now=datetime.now(UTC),
        )
        db.commit()
    sent = [m for m in inbox.received if "今天内回复您" in m.get_payload(decode=True).decode()]
    assert len(sent) == 1
    assert sent[0]["In-Reply-To"] == "<journey-first@example.cn>"
    assert "<journey-first@example.cn>" in (sent[0]["References"] or "")
    assert (
        reference in str(sent[0]["Subject"])
        or reference in sent[0].get_payload(decode=True).decode()
    )

    # a note that mentions a colleague
    page.get_by_label("备注（仅同事可见）").fill("@lisi 请帮忙确认银行流水")
    page.get_by_role("button", name="保存备注").click()
    expect(page.get_by_role("status")).to_contain_text("备注已保存")
    expect(page.locator("mark.mention")).to_have_text("@lisi")
    with live_server.sessions() as db:
        lisi = identity_service.get_staff_by_username(db, "lisi")
        assert lisi is not None
        assert db.scalar(
            select(CaseNotification).where(
                CaseNotification.staff_user_id == lisi.id, CaseNotification.kind == "mention"
            )
        )

    # assign to myself, then escalate to tier 2 with a reason
    _open(page, "分配")
    page.locator("#assign-owner").select_option("zhao")
    _submit(page, "assign")
    expect(page.get_by_role("status")).to_contain_text("负责人已更新")
    _open(page, "升级")
    page.get_by_label("原因").fill("需要二线核对银行清算记录")
    _submit(page, "escalate")
    expect(page.get_by_role("status")).to_contain_text("工单已升级")
    expect(page.locator(".case-facts")).to_contain_text("二线")

    # merge the customer's duplicate from the web form into this case
    _open(page, "合并重复工单")
    page.get_by_label("重复工单的参考编号").fill(duplicate.replace("-", ""))
    _submit(page, "merge")
    expect(page.get_by_role("status")).to_contain_text("重复工单已合并到这里")
    expect(page.locator(".timeline")).to_contain_text("网页上再问一次")
    screenshot(page, "case-page-desktop-zh")

    # resolve with a resolution code: the mail exchange's summary comes filled in, the
    # agent edits it, and it is answered in the customer's mail thread
    _open(page, "解决")
    page.get_by_label("解决方式").select_option("fixed")
    written = page.get_by_label("邮件沟通小结（解决后在邮件中回复客户）")
    expect(written).to_have_value(re.compile(r"^【客服小结】本次邮件沟通已结束。 工单编号："))
    drafted = written.input_value()
    assert reference in drafted and "如需跟进" in drafted and "问题已解决" in drafted
    screenshot(page, "case-mail-summary-draft")
    written.fill(
        drafted.replace(
            "客服已了解并记录您的问题", "银行已退回扣款，200元已到账；客服已处理您的问题"
        )
    )
    _submit(page, "resolve")
    expect(page.get_by_role("status")).to_contain_text("工单已解决")
    expect(page.locator(".case-facts")).to_contain_text("已解决")
    kept = page.locator("#timeline li.ev-notification").filter(has_text="联络小结")
    expect(kept).to_contain_text("银行已退回扣款，200元已到账")
    screenshot(page, "case-mail-summary-sent")
    with live_server.sessions() as db:
        case = db.scalar(select(Case).where(Case.reference == reference))
        assert case is not None and case.status == "resolved" and case.resolution_code == "fixed"
        assert case.tier == "tier2" and case.first_responded_at is not None
        summary_mail = db.scalars(
            select(EmailMessage).where(
                EmailMessage.case_reference == reference,
                EmailMessage.direction == "out",
                EmailMessage.purpose == "reply",
            )
        ).all()[-1]
        outgoing.send(
            db,
            email_message_id=summary_mail.id,
            senders=build_senders(smtp_settings),
            now=datetime.now(UTC),
        )
        db.commit()
    mailed = [m for m in inbox.received if "银行已退回扣款" in m.get_payload(decode=True).decode()]
    assert len(mailed) == 1
    assert mailed[0]["In-Reply-To"] == "<journey-first@example.cn>"
    assert "【客服小结】本次邮件沟通已结束" in mailed[0].get_payload(decode=True).decode()

    # the old reference leads to the kept case
    page.goto(f"{live_server.url}/console/cases/{duplicate}")
    expect(page).to_have_url(f"{live_server.url}/console/cases/{reference}")
    page.set_viewport_size(PHONE)
    screenshot(page, "case-page-phone-zh")


def test_case_views_keyboard_and_a_bad_reference(live_server: LiveServer, page: Page) -> None:
    reference, _ = _seed(live_server)
    page.set_viewport_size(DESKTOP)
    make_and_sign_in(live_server, page, username="zhao", role="agent", display_name="坐席 赵敏")
    page.goto(f"{live_server.url}/console/cases?view=unassigned")
    expect(page.locator(".case-table tbody tr")).to_have_count(2)
    expect(page.get_by_role("link", name=re.compile(r"未分配\s*2"))).to_be_visible()
    expect(page.locator("[data-case-count]")).to_have_text("0")
    screenshot(page, "case-views-desktop-zh")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog")).to_be_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/console/cases/KF-"))
    # the URL changes when the case page starts to load; its keys are bound by the deferred
    # script, which has run once the document is parsed (a key pressed before went nowhere)
    page.wait_for_load_state("domcontentloaded")
    page.keyboard.press("n")
    expect(page.get_by_label("备注（仅同事可见）")).to_be_focused()
    page.goto(f"{live_server.url}/console/cases?view=unassigned")
    page.keyboard.press("/")
    expect(page.get_by_label("搜索工单")).to_be_focused()
    # bulk: a stray click changes nothing and says why; then two cases to urgent at once
    page.get_by_role("button", name="批量改优先级").click()
    expect(page.get_by_role("alert")).to_contain_text("请先在列表中勾选要处理的工单")
    for box in page.locator(".case-table tbody input[type=checkbox]").all():
        box.check()
    page.get_by_label("优先级改为").select_option(label="紧急")
    page.get_by_role("button", name="批量改优先级").click()
    expect(page.get_by_role("status")).to_contain_text("已处理 2 个工单")
    expect(page.locator(".case-table tbody")).to_contain_text("紧急")
    page.set_viewport_size(PHONE)
    screenshot(page, "case-views-phone-zh")

    page.goto(f"{live_server.url}/console/cases/{reference[:-1]}0?lang=en")
    expect(page.get_by_role("heading", name="Case not found")).to_be_visible()
    screenshot(page, "case-not-found-en")
