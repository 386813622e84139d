"""The customer help center in Chromium, phone-sized first: FAQ results as you type, a
"did this help?" vote, checking a number, and tracking a case with the code from the
demo outbox through to a reply and an attachment."""

from __future__ import annotations

import re
from dataclasses import dataclass

from playwright.sync_api import Browser, Page, expect
from tests.web.a11y import problems
from tests.web.conftest import LiveServer, screenshot

from kefu import audit
from kefu.antifraud import service as antifraud_service
from kefu.cases import service as cases_service
from kefu.config import get_settings
from kefu.identity import service as identity_service
from kefu.kb import service as kb_service

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass(frozen=True)
class Seeded:
    reference: str
    phone: str


def _seed(server: LiveServer) -> Seeded:
    with server.sessions() as db:
        kb_service.load_shipped_articles(db)
        antifraud_service.seed_demo(db)
        customer = identity_service.create_customer(
            db, wallet_account_id="W700800900", name="刘洋", phone="13800001234"
        )
        case = cases_service.open_case(
            db,
            new=cases_service.NewCase(
                customer_id=customer.id,
                category="payment_failed",
                channel="web",
                subject="支付失败但扣款了",
                description="昨天在美团外卖付了 88 元，订单失败但钱被扣了",
            ),
            actor=audit.Actor(name=f"customer:{customer.id}", role="customer"),
            settings=get_settings(),
        )
        db.commit()
        return Seeded(reference=case.reference, phone="13800001234")


def test_home_search_as_you_type_then_vote(live_server: LiveServer, page: Page) -> None:
    _seed(live_server)
    page.goto(f"{live_server.url}/help")
    expect(page.get_by_role("heading", name="您好，有什么可以帮您？")).to_be_visible()
    expect(page.get_by_role("link", name="95099")).to_have_attribute("href", "tel:95099")
    assert problems(page) == []
    screenshot(page, "help-home-zh-phone")

    box = page.get_by_role("searchbox", name="搜索常见问题")
    box.press_sequentially("充值没到账", delay=40)
    results = page.locator("#faq-results")
    expect(results.get_by_role("link", name=re.compile("充值已扣款但余额没到账"))).to_be_visible()
    expect(page.locator("#faq-status")).to_contain_text("个相关问题")
    screenshot(page, "help-search-as-you-type")

    box.press("ArrowDown")  # the keyboard reaches the results
    first = results.get_by_role("link").first
    expect(first).to_be_focused()
    first.press("Enter")
    expect(page).to_have_url(re.compile(r"/help/articles/\w+$"))
    slug = page.url.rsplit("/", 1)[-1]

    page.get_by_role("button", name="有帮助").click()
    expect(page.get_by_text("谢谢您的反馈！")).to_be_visible()
    expect(page.get_by_role("button", name="有帮助")).to_have_attribute("aria-pressed", "true")
    with live_server.sessions() as db:
        assert kb_service.feedback_counts(db, slug=slug).helpful == 1
    page.get_by_role("button", name="没帮助").click()
    expect(page.locator("[data-vote-more]")).to_be_visible()
    with live_server.sessions() as db:
        counts = kb_service.feedback_counts(db, slug=slug)
        assert (counts.helpful, counts.not_helpful) == (0, 1)  # the second vote replaced the first
    assert problems(page) == []
    screenshot(page, "help-article-vote")


def test_verify_a_number_and_a_site(live_server: LiveServer, page: Page) -> None:
    _seed(live_server)
    page.goto(f"{live_server.url}/help#verify")
    field = page.get_by_label("电话号码、网址、邮箱或微信号")
    field.fill("95099")
    page.get_by_role("button", name="核验", exact=True).click()
    verdict = page.locator("[data-verify-result] .verdict")
    expect(verdict).to_contain_text("是官方渠道")
    field.fill("kefu-wallet-refund.com")
    field.press("Enter")
    expect(page.locator("[data-verify-result] .verdict-reported_scam")).to_contain_text(
        "已被举报为诈骗"
    )
    verdict.scroll_into_view_if_needed()
    assert problems(page) == []
    screenshot(page, "help-verify-scam")


def test_track_a_case_with_the_code_from_the_outbox(live_server: LiveServer, page: Page) -> None:
    seeded = _seed(live_server)
    page.goto(f"{live_server.url}/help/track")
    page.get_by_label("工单参考编号").fill(seeded.reference.lower())
    page.get_by_label("手机号或邮箱").fill(seeded.phone)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_role("heading", name="输入验证码")).to_be_visible()
    expect(page.get_by_text("138****1234")).to_be_visible()
    assert problems(page) == []
    screenshot(page, "help-code")

    outbox = page.context.new_page()
    outbox.goto(f"{live_server.url}/dev/outbox")
    code = re.search(r"\d{6}", outbox.locator("pre.outbox-body").first.inner_text())
    assert code
    outbox.close()
    page.get_by_label("6 位验证码").fill(code.group(0))
    page.get_by_label("6 位验证码").press("Enter")

    expect(page.get_by_role("heading", name=seeded.reference)).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text("订单失败但钱被扣了")
    expect(page.get_by_text("承诺处理时间").first).to_be_visible()
    page.get_by_label("您的留言").fill("补充：订单号 20261123-0088，截图已上传")
    page.get_by_role("button", name="发送").click()
    expect(page.locator(".timeline")).to_contain_text("订单号 20261123-0088")
    page.get_by_label("上传截图或 PDF").set_input_files(
        files=[{"name": "receipt.png", "mimeType": "image/png", "buffer": PNG}]
    )
    page.get_by_role("button", name="上传", exact=True).click()
    expect(page.get_by_role("link", name="receipt.png")).to_be_visible()
    assert problems(page) == []
    screenshot(page, "help-case-zh-phone")

    page.goto(f"{live_server.url}/help/cases/{seeded.reference}?lang=en")
    expect(page.get_by_role("heading", name="Progress")).to_be_visible()
    screenshot(page, "help-case-en-phone")
    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{live_server.url}/help/cases/{seeded.reference}")
    expect(page.get_by_label("Case reference")).to_have_value(seeded.reference)


def test_english_pages_and_a_desktop_screen(live_server: LiveServer, browser: Browser) -> None:
    _seed(live_server)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.goto(f"{live_server.url}/help")
    expect(page.get_by_role("heading", name="Hello, how can we help?")).to_be_visible()
    assert problems(page) == []
    screenshot(page, "help-home-en-desktop")
    page.goto(f"{live_server.url}/help/contact")
    expect(page.get_by_role("heading", name="Hotlines")).to_be_visible()
    expect(page.get_by_text("charged at your local call rate", exact=False)).to_be_visible()
    screenshot(page, "help-contact-en-desktop")
    context.close()
