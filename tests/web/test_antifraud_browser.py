"""The anti-fraud console pages in Chromium: an admin edits the registry (and meets a
colleague's edit), a specialist reviews scam reports with their screenshots and handles
scam flags, an agent records and cancels a call from the customer's side, and a
supervisor reads and exports the look-up figures."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from playwright.sync_api import Browser, BrowserContext, Page, expect
from tests.factories import STAFF_PASSWORD
from tests.web.a11y import problems
from tests.web.conftest import SCREENSHOTS, LiveServer, screenshot

from kefu import audit
from kefu.antifraud import service
from kefu.config import get_settings
from kefu.db import utcnow
from kefu.identity import service as identity_service
from kefu.storage import build_storage

STAFF = (
    ("wangqiang", "admin", "管理员 王强"),
    ("zhaolei", "admin", "管理员 赵磊"),
    ("chenjing", "specialist", "专员 陈静"),
    ("zhangmin", "agent", "客服 张敏"),
    ("lina", "supervisor", "主管 李娜"),
)
# What a scam text message looks like on a customer's phone, drawn by the browser itself
# so the report carries a real PNG screenshot.
FAKE_SMS = """<body style="margin:0;font:15px sans-serif;background:#f2f2f7;width:300px">
<div style="padding:12px;background:#fff;border-bottom:1px solid #ddd;text-align:center">
<b>+86 171 0000 3333</b></div><div style="margin:14px;padding:10px 12px;background:#e5e5ea;
border-radius:16px">【Kefu钱包】您的账户存在异常，请立即联系客服 171 0000 3333 办理退款，
或点击 kefu-wallet-refund.com 验证身份。</div></body>"""


def _seed(server: LiveServer) -> int:
    with server.sessions() as db:
        service.seed_demo(db)
        for username, role, name in STAFF:
            identity_service.create_staff(
                db, username=username, password=STAFF_PASSWORD, role=role, display_name=name
            )
        customer = identity_service.create_customer(
            db, wallet_account_id="W500600700", name="刘洋", phone="13800001234"
        )
        db.commit()
        return customer.id


def _sign_in(
    browser: Browser, server: LiveServer, username: str, *, width: int = 1280, lang: str = "zh-CN"
) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport={"width": width, "height": 900}, locale=lang)
    page = context.new_page()
    page.goto(f"{server.url}/console/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(STAFF_PASSWORD)
    page.locator("#password").press("Enter")
    expect(page).to_have_url(f"{server.url}/console")
    return context, page


def test_admin_edits_the_registry(live_server: LiveServer, browser: Browser) -> None:
    _seed(live_server)
    context, page = _sign_in(browser, live_server, "wangqiang")
    page.get_by_role("link", name="防诈骗").click()
    expect(page.get_by_role("heading", name="官方渠道与诈骗库")).to_be_visible()
    expect(page.get_by_role("link", name="95099")).to_be_visible()

    page.get_by_label("核验号码、网址或账号").fill("https://kefu-wa11et.com.cn/refund")
    page.get_by_role("button", name="核验", exact=True).click()
    verdict = page.locator(".af-verdict")
    expect(verdict).to_contain_text("非官方")
    expect(verdict).to_contain_text("kefu-wallet.com.cn")
    assert problems(page) == []
    screenshot(page, "antifraud-registry")

    page.get_by_role("link", name="新增条目").click()
    page.get_by_label("类型").select_option("domain")
    expect(page.get_by_role("group", name="电话资费与服务时间")).to_be_hidden()
    page.get_by_label("状态").select_option("scam")
    expect(page.get_by_role("group", name="诈骗来源")).to_be_visible()
    expect(page.get_by_role("group", name="公布")).to_be_hidden()
    page.get_by_label("号码 / 网址 / 账号").fill("HTTPS://Kefu-Wallet-Refund.com/login")
    page.get_by_label("名称（中文）").fill("仿冒退款网站")
    page.get_by_role("button", name="保存").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("已在登记簿中")
    expect(page.locator("#e-value")).to_be_visible()
    expect(page.get_by_label("号码 / 网址 / 账号")).to_have_value(
        "HTTPS://Kefu-Wallet-Refund.com/login"
    )
    assert problems(page) == []
    screenshot(page, "antifraud-entry-form-error")

    page.get_by_label("号码 / 网址 / 账号").fill("kefu-wallet-vip.cn")
    page.get_by_label("名称（英文）").fill("Fake VIP refund site")
    page.get_by_label("来源").fill("客户来电 2026-11-23")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_contain_text("已保存")
    expect(page.get_by_role("heading", name="kefu-wallet-vip.cn")).to_be_visible()
    entry_url = page.url.split("?")[0]

    # two admins open the same entry; the second to save is told and shown both
    page.get_by_role("link", name="编辑").click()
    other_context, other = _sign_in(browser, live_server, "zhaolei")
    other.goto(f"{entry_url}/edit")
    other.get_by_label("名称（中文）").fill("仿冒“VIP 退款”网站")
    other.get_by_role("button", name="保存").click()
    expect(other.get_by_role("status")).to_contain_text("已保存")
    page.get_by_label("名称（中文）").fill("仿冒退款网站（VIP）")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_contain_text("zhaolei")
    expect(page.locator(".af-stale")).to_contain_text("仿冒“VIP 退款”网站")
    assert problems(page) == []
    screenshot(page, "antifraud-stale-edit")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_contain_text("已保存")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="停用").click()
    expect(page.get_by_role("button", name="恢复使用")).to_be_visible()
    history = page.locator(".af-history tbody tr")
    expect(history).to_have_count(4)
    expect(history.first).to_contain_text("停用")
    expect(history.nth(1)).to_contain_text("仿冒退款网站（VIP）")
    expect(history.nth(2)).to_contain_text("zhaolei")
    assert problems(page) == []
    screenshot(page, "antifraud-entry-history")
    other_context.close()
    context.close()


def test_specialist_reviews_reports_and_handles_flags(
    live_server: LiveServer, browser: Browser
) -> None:
    customer_id = _seed(live_server)
    context = browser.new_context(viewport={"width": 360, "height": 300})
    phone = context.new_page()
    phone.set_content(FAKE_SMS)
    shot = phone.screenshot()
    sent = phone.request.post(
        f"{live_server.url}/api/v1/antifraud/reports",
        multipart={
            "value": "171 0000 3333",
            "description": "短信说账户异常，让我打这个电话退款，对方要我的验证码 663120",
            "screenshots": {"name": "sms.png", "mimeType": "image/png", "buffer": shot},
        },
    )
    assert sent.status == 201, sent.text()
    context.close()
    with live_server.sessions() as db:
        for n in range(3):
            service.submit_report(
                db,
                value="+86 17100003333",
                description="冒充客服打电话，说要给我退款" if n else "",
                lang="zh-CN",
                settings=get_settings(),
                storage=build_storage(get_settings()),
                client_hash=f"caller-{n}",
            )
        service.submit_report(
            db,
            value="021 6080 9595",
            description="这个号码打给我说是客服",
            lang="zh-CN",
            settings=get_settings(),
            storage=build_storage(get_settings()),
            client_hash="caller-x",
        )
        text = "客服说我的账户被冻结，要我下载向日葵远程，再把钱转到安全账户"
        service.flag(
            db,
            service.detect_signals(text),
            channel="web",
            actor=audit.Actor.system(),
            text=text,
            customer_id=customer_id,
        )
        db.commit()

    context, page = _sign_in(browser, live_server, "chenjing")
    page.get_by_role("link", name="防诈骗").click()
    page.get_by_role("link", name="举报审核").click()
    row = page.get_by_role("row", name="171 0000 3333")
    expect(row).to_contain_text("4")
    assert problems(page) == []
    screenshot(page, "antifraud-reports")

    row.get_by_role("link").click()
    expect(page.locator("body")).not_to_contain_text("663120")
    image = page.get_by_role("img", name="截图 1")
    expect(image).to_be_visible()
    # the screenshot is served and decodes (wait for it to load: visible comes first)
    page.wait_for_function("img => img.complete", arg=image.element_handle())
    assert image.evaluate("img => img.naturalWidth") == 360
    page.get_by_label("名称（中文）").fill("冒充客服办理退款")
    page.get_by_label("名称（英文）").fill("Fake refund agent")
    assert problems(page) == []
    screenshot(page, "antifraud-report-review")
    page.get_by_role("button", name="确认为诈骗").click()
    expect(page.get_by_role("status")).to_contain_text("已确认为诈骗")
    expect(page.locator(".af-verdict")).to_contain_text("已确认诈骗")

    page.get_by_role("link", name="举报审核", exact=True).click()
    page.get_by_role("link", name="021 6080 9595").click()
    confirm = page.get_by_role("button", name="确认为诈骗")
    expect(confirm).to_be_disabled()
    # a disabled danger button looks disabled (kefu.css), not like a live red one
    expect(confirm).to_have_css("background-color", "rgb(201, 208, 217)")
    expect(confirm).to_have_css("color", "rgb(59, 69, 82)")
    expect(confirm).to_have_css("cursor", "not-allowed")
    confirm.locator("xpath=..").screenshot(path=str(SCREENSHOTS / "antifraud-report-disabled.png"))
    page.get_by_label("驳回原因（必填）").fill("官方回访号码，来电显示被伪造")
    page.get_by_role("button", name="驳回举报").click()
    expect(page.get_by_role("status")).to_contain_text("已驳回")

    page.get_by_role("link", name="诈骗标记").click()
    flag = page.locator("article.af-flag").first
    expect(flag).to_contain_text("远程控制")
    expect(flag).to_contain_text("转账到“安全账户”")
    expect(flag.get_by_role("link", name="刘洋")).to_be_visible()
    assert problems(page) == []
    screenshot(page, "antifraud-flags")
    flag.get_by_label("处理记录").fill("已致电客户，客户未转账，已提醒勿下载远程软件")
    flag.get_by_role("button", name="标记为已处理").click()
    expect(page.get_by_role("status")).to_contain_text("已处理")
    expect(page.locator("article.af-flag")).to_have_count(0)
    page.get_by_label("客户编号").fill(str(customer_id))
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("article.af-flag")).to_contain_text("已致电客户")
    context.close()


def test_agent_records_a_call_on_a_phone(live_server: LiveServer, browser: Browser) -> None:
    customer_id = _seed(live_server)
    context, page = _sign_in(browser, live_server, "zhangmin", width=390)
    page.goto(f"{live_server.url}/console/antifraud/calls?customer_id={customer_id}")
    expect(page.get_by_label("客户（钱包账号或客户编号）")).to_have_value("W500600700")
    page.get_by_label("致电事由").fill("核实您 11 月 20 日 500 元充值未到账")
    page.get_by_label("开始时间").fill("2099-01-01T10:00")
    page.get_by_role("button", name="登记外呼").click()
    expect(page.get_by_role("alert")).to_contain_text("7 天")
    expect(page.get_by_label("致电事由")).to_have_value("核实您 11 月 20 日 500 元充值未到账")
    expect(page.get_by_label("开始时间")).to_have_attribute("aria-invalid", "true")
    assert problems(page) == []
    screenshot(page, "antifraud-calls-error-phone")
    page.get_by_label("开始时间").fill("")
    page.get_by_role("button", name="登记外呼").click()
    expect(page.get_by_role("status")).to_contain_text("刘洋")
    expect(page.get_by_role("status")).to_contain_text("021 6080 9595")
    with live_server.sessions() as db:
        answer = service.confirm_call(db, customer_id, lang="zh-CN", number="02160809595")
        assert answer.calling and "客服 张敏" in answer.message
    assert problems(page) == []
    screenshot(page, "antifraud-calls-phone")

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#mine-title + .af-scroll").get_by_role("button", name="取消").click()
    expect(page.locator("#mine-title + .af-scroll")).to_contain_text("已取消")
    with live_server.sessions() as db:
        assert not service.confirm_call(db, customer_id, lang="zh-CN").calling
    context.close()

    context, page = _sign_in(browser, live_server, "zhangmin", lang="en")
    page.goto(f"{live_server.url}/console/antifraud/calls?lang=en")
    expect(page.get_by_role("heading", name="Record an outbound call")).to_be_visible()
    expect(page.get_by_role("cell", name="Cancelled").first).to_be_visible()
    assert problems(page) == []
    screenshot(page, "antifraud-calls-en")
    context.close()


def test_supervisor_reads_and_exports_lookup_figures(
    live_server: LiveServer, browser: Browser
) -> None:
    _seed(live_server)
    now = utcnow()
    with live_server.sessions() as db:
        for day, count, value in (
            (6, 2, "400 800 9596"),
            (4, 1, "400 800 9596"),
            (2, 3, "400 800 9596"),
            (0, 41, "400 800 9596"),
            (0, 6, "95099"),
            (1, 8, "95099"),
            (3, 5, "95099"),
            (0, 3, "kefu-wa11et.com.cn"),
        ):
            for n in range(count):
                service.verify(
                    db,
                    value,
                    lang="zh-CN",
                    client_key=f"ip:{day}:{n % 30}",
                    now=now - timedelta(days=day),
                )
        db.commit()

    context, page = _sign_in(browser, live_server, "lina")
    page.get_by_role("link", name="防诈骗").click()
    page.get_by_role("link", name="查询统计").click()
    expect(page.get_by_role("heading", name="核验查询统计")).to_be_visible()
    surging = page.locator("tr.af-surging")
    expect(surging).to_have_count(1)
    expect(surging).to_contain_text("400 800 9596")  # as a person reads it
    expect(surging).to_contain_text("41")
    expect(page.get_by_role("alert")).to_contain_text("疑似新一波诈骗")
    assert problems(page) == []
    screenshot(page, "antifraud-lookups")

    with page.expect_download() as download:
        page.get_by_role("link", name="导出 CSV").click()
    path = download.value.path()
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert rows[0][:4] == ["类型", "值", "最近结果", "激增"]
    assert rows[1][1] == "'+864008009596" and rows[1][-4] == "47"
    assert {row[1] for row in rows[1:]} == {"'+864008009596", "'+8695099", "kefu-wa11et.com.cn"}

    page.get_by_label("范围").select_option("1")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("table.af-figures tbody tr")).to_have_count(3)
    context.close()
