"""The agent returns a deducted-but-failed payment from the customer view; it is above the
approval amount, so a supervisor approves it in the approval queue in a second browser;
the customer, in a third, reads the outcome on their case. The money moves exactly once,
however often the forms are sent."""

from __future__ import annotations

import re
from dataclasses import dataclass

from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import func, select
from tests.factories import STAFF_PASSWORD
from tests.integration.wallet.wallet_helpers import ctx, funded_account
from tests.web.a11y import problems
from tests.web.conftest import LiveServer, screenshot

from kefu import audit
from kefu.approvals.models import ApprovalRequest
from kefu.audit import AuditEvent
from kefu.cases import service as cases_service
from kefu.config import get_settings
from kefu.identity import service as identity_service
from kefu.wallet import flows
from kefu.wallet.models import Movement, WalletAccount


@dataclass(frozen=True)
class Scene:
    customer_id: int
    account_id: str
    payment_id: int
    reference: str


def _seed(server: LiveServer) -> Scene:
    with server.sessions() as db:
        for username, role, name in (
            ("zhangmin", "agent", "客服 张敏"),
            ("lina", "supervisor", "主管 李娜"),
        ):
            identity_service.create_staff(
                db, username=username, password=STAFF_PASSWORD, role=role, display_name=name
            )
        account = funded_account(db, "3000.00", account_id="W500600700")
        account.name, account.phone = "刘洋", "13800001234"
        payment = flows.pay(
            db,
            account_id=account.id,
            merchant="美团外卖",
            amount_fen=1288_00,
            currency="CNY",
            outcome="deducted_failed",
            reason="merchant_timeout",
            ctx=ctx(),
        )
        customer = identity_service.create_customer(
            db, wallet_account_id=account.id, name="刘洋", phone="13800001234"
        )
        case = cases_service.open_case(
            db,
            new=cases_service.NewCase(
                customer_id=customer.id,
                category="payment_failed",
                channel="web",
                subject="扣款了但订单失败",
                description="美团外卖 1288 元，订单失败但钱被扣了",
            ),
            actor=audit.Actor(name=f"customer:{customer.id}", role="customer"),
            settings=get_settings(),
        )
        db.commit()
        return Scene(customer.id, account.id, payment.id, case.reference)


def _sign_in(browser: Browser, server: LiveServer, username: str) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{server.url}/console/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(STAFF_PASSWORD)
    page.get_by_label("密码").press("Enter")
    expect(page.get_by_role("heading", name="坐席工作台")).to_be_visible()
    return context, page


def _customer_reads_case(browser: Browser, server: LiveServer, scene: Scene) -> Page:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{server.url}/help/track?ref={scene.reference}")
    page.get_by_label("手机号或邮箱").fill("13800001234")
    page.get_by_role("button", name="获取验证码").click()
    outbox = context.new_page()
    outbox.goto(f"{server.url}/dev/outbox")
    code = re.search(r"\d{6}", outbox.locator("pre.outbox-body").first.inner_text())
    assert code
    outbox.close()
    page.get_by_label("6 位验证码").fill(code.group(0))
    page.get_by_role("button", name="验证并查看工单").click()
    expect(page.get_by_role("heading", name=scene.reference)).to_be_visible()
    return page


def _counts(server: LiveServer, scene: Scene) -> tuple[int, int, str, int]:
    with server.sessions() as db:
        approvals = db.scalar(select(func.count()).select_from(ApprovalRequest)) or 0
        reversals = (
            db.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "wallet.reverse_payment")
            )
            or 0
        )
        payment = db.get(Movement, scene.payment_id)
        account = db.get(WalletAccount, scene.account_id)
        assert payment is not None and account is not None
        return approvals, reversals, payment.status, account.balance_fen


def test_refund_waits_for_a_supervisor_and_runs_once(
    live_server: LiveServer, browser: Browser
) -> None:
    scene = _seed(live_server)
    customer = _customer_reads_case(browser, live_server, scene)
    before = _counts(live_server, scene)

    agent_context, agent = _sign_in(browser, live_server, "zhangmin")
    agent.get_by_label("查找客户").fill("刘洋")
    agent.get_by_label("查找客户").press("Enter")
    agent.get_by_role("link", name="刘洋").click()
    expect(agent.get_by_role("heading", name="刘洋")).to_be_visible()
    expect(agent.locator("body")).not_to_contain_text("13800001234")
    expect(agent.get_by_text("138****1234").first).to_be_visible()
    assert problems(agent) == []
    screenshot(agent, "console-customer-view")

    row = agent.locator(f"#tx-{scene.payment_id}")
    summary = row.locator("summary", has_text="退款")
    summary.focus()
    summary.press("Enter")  # the disclosure opens from the keyboard
    form = row.locator("form")
    form.get_by_label("操作原因（必填，记入审计）").fill("商户超时，订单未成立，客户来电要求退回")
    expect(form.get_by_label("关联工单")).to_have_value(scene.reference)
    fields = {
        name: form.locator(f'input[name="{name}"]').get_attribute("value") or ""
        for name in ("csrf_token", "action", "key", "transaction_id")
    }
    screenshot(agent, "console-refund-form")
    form.get_by_role("button", name="确认退款").dblclick()
    expect(agent.get_by_role("status")).to_contain_text("主管批准后才会执行")
    resent = agent_context.request.post(
        f"{live_server.url}/console/customers/{scene.customer_id}/actions",
        form={**fields, "reason": "同一表单再次提交", "case_reference": scene.reference},
        max_redirects=0,
    )
    assert resent.status == 303  # the same form's key: the first outcome, no second request
    approvals, reversals, status, balance = _counts(live_server, scene)
    assert (approvals, reversals, status, balance) == (1, 0, "deducted_failed", before[3])

    boss_context, boss = _sign_in(browser, live_server, "lina")
    boss.get_by_role("link", name="审批队列").click()
    item = boss.locator("article.approval").first
    expect(item).to_contain_text("撤销扣款")
    expect(item).to_contain_text("1288.00")
    expect(item).to_contain_text("客服 张敏")
    assert problems(boss) == []
    screenshot(boss, "console-approvals")
    item.get_by_label("备注（可选）").fill("已核实商户未出货")
    item.get_by_role("button", name="批准并执行").dblclick()
    expect(boss.get_by_role("status")).to_contain_text("已处理")
    screenshot(boss, "console-approvals-decided")

    approvals, reversals, status, balance = _counts(live_server, scene)
    assert (approvals, reversals, status) == (1, 1, "reversed")
    assert balance == before[3] + 1288_00

    agent.reload()
    expect(agent.locator(f"#tx-{scene.payment_id}")).to_contain_text("已退回")
    expect(agent.get_by_role("cell", name="已批准")).to_be_visible()

    customer.reload()
    expect(customer.locator(".timeline")).to_contain_text(
        "已扣款但未成功的支付 1288.00 元已退回您的钱包余额"
    )
    screenshot(customer, "help-case-after-refund")
    for context in (agent_context, boss_context, customer.context):
        context.close()


def test_the_customer_view_on_a_phone(live_server: LiveServer, browser: Browser) -> None:
    scene = _seed(live_server)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/console/login")
    page.get_by_label("用户名").fill("zhangmin")
    page.get_by_label("密码").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.goto(f"{live_server.url}/console/customers/{scene.customer_id}")
    expect(page.get_by_role("heading", name="刘洋")).to_be_visible()
    assert problems(page) == []
    screenshot(page, "console-customer-view-phone")
    context.close()
