"""Account actions from the case page itself: the agent refunds a payment above the
approval amount from the case's customer and wallet panel, sees it waiting for a
supervisor on the case's timeline, and a supervisor approves it in the approval queue; the
timeline then says so and the money moved once. Desktop and phone-size screenshots."""

from __future__ import annotations

from dataclasses import dataclass

from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import func, select
from tests.factories import STAFF_PASSWORD
from tests.integration.wallet.wallet_helpers import ctx, funded_account
from tests.web.a11y import problems
from tests.web.conftest import LiveServer, screenshot

from kefu import audit
from kefu.approvals.models import ApprovalRequest
from kefu.cases import service as cases_service
from kefu.config import get_settings
from kefu.identity import service as identity_service
from kefu.wallet import flows
from kefu.wallet.models import Refund


@dataclass(frozen=True)
class Scene:
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
        account = funded_account(db, "3000.00", account_id="W500600711")
        account.name, account.phone = "刘洋", "13800001235"
        payment = flows.pay(
            db,
            account_id=account.id,
            merchant="京东商城",
            amount_fen=899_00,
            currency="CNY",
            outcome="succeeded",
            ctx=ctx(),
        )
        customer = identity_service.create_customer(
            db, wallet_account_id=account.id, name="刘洋", phone="13800001235"
        )
        case = cases_service.open_case(
            db,
            new=cases_service.NewCase(
                customer_id=customer.id,
                category="refund",
                channel="web",
                subject="商品没发货，要求退款",
                description="京东商城 899 元，商家一直没发货",
            ),
            actor=audit.Actor(name=f"customer:{customer.id}", role="customer"),
            settings=get_settings(),
        )
        db.commit()
        return Scene(payment.id, case.reference)


def _sign_in(
    browser: Browser, server: LiveServer, username: str, viewport: dict[str, int]
) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport=viewport, locale="zh-CN")  # type: ignore[arg-type]
    page = context.new_page()
    page.goto(f"{server.url}/console/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(STAFF_PASSWORD)
    page.get_by_label("密码").press("Enter")
    expect(page.get_by_role("heading", name="坐席工作台")).to_be_visible()
    return context, page


def _counts(server: LiveServer) -> tuple[int, int]:
    with server.sessions() as db:
        approvals = db.scalar(select(func.count()).select_from(ApprovalRequest)) or 0
        refunds = db.scalar(select(func.count()).select_from(Refund)) or 0
        return approvals, refunds


def test_refund_from_the_case_page_waits_on_its_timeline_until_a_supervisor_approves(
    live_server: LiveServer, browser: Browser
) -> None:
    scene = _seed(live_server)
    agent_context, agent = _sign_in(
        browser, live_server, "zhangmin", {"width": 1366, "height": 900}
    )
    agent.goto(f"{live_server.url}/console/cases/{scene.reference}")
    expect(agent.get_by_role("heading", name="商品没发货，要求退款")).to_be_visible()
    row = agent.locator(f"#case-tx-{scene.payment_id}")
    expect(row).to_contain_text("京东商城")
    row.locator("summary", has_text="退款").click()
    form = row.locator(f"#account-refund-{scene.payment_id}")
    expect(form).to_contain_text(f"操作会记在工单 {scene.reference} 的时间线上")
    expect(form).to_contain_text("须另一位主管审批")
    form.get_by_label("操作原因（必填，记入审计）").fill("商家确认未发货，客户要求全额退款")
    screenshot(agent, "case-account-refund-form")
    form.get_by_role("button", name="确认退款").dblclick()

    expect(agent.get_by_role("status")).to_contain_text("已提交主管复核：退款")
    waiting = agent.locator("#timeline li.ev-action").filter(has_text="提交主管复核")
    expect(waiting).to_contain_text("退款 899.00 元")
    expect(waiting).to_contain_text("等待主管复核")
    expect(agent.locator("#timeline")).to_contain_text("您的退款申请已提交主管审核")
    assert problems(agent) == []
    screenshot(agent, "case-account-refund-waiting")
    assert _counts(live_server) == (1, 1)  # the double click filed one request, one refund

    boss_context, boss = _sign_in(browser, live_server, "lina", {"width": 390, "height": 844})
    boss.get_by_role("link", name="审批队列").click()
    item = boss.locator("article.approval").first
    expect(item).to_contain_text("899.00")
    expect(item).to_contain_text("客服 张敏")
    item.get_by_label("备注（可选）").fill("已核实商家未发货")
    item.get_by_role("button", name="批准并执行").click()
    expect(boss.get_by_role("status")).to_contain_text("已处理")

    boss.goto(f"{live_server.url}/console/cases/{scene.reference}")
    expect(boss.locator("#timeline")).to_contain_text("主管已批准")
    expect(
        boss.locator("#timeline li.ev-action").filter(has_text="提交主管复核")
    ).not_to_contain_text("等待主管复核")
    assert problems(boss) == []
    screenshot(boss, "case-account-refund-approved-phone")

    agent.reload()
    expect(agent.locator("#timeline")).to_contain_text("您的退款 899.00 元已批准")
    with live_server.sessions() as db:
        refund = db.scalar(select(Refund))
        assert refund is not None and refund.status != "requested"
    assert _counts(live_server) == (1, 1)
    for context in (agent_context, boss_context):
        context.close()
