"""The help center's anti-fraud pages: reporting a suspicious number, site or account with
screenshots (the API's checks and limit, errors on the page), and a verified customer's
"is someone from you calling me right now?" answered from the calls agents registered."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import make_customer, make_staff
from tests.integration.cases.case_helpers import make_case
from tests.integration.web.web_helpers import code_from_outbox, csrf, hidden_fields

from kefu import audit
from kefu.antifraud import registry, reports
from kefu.antifraud import service as antifraud_service
from kefu.antifraud.models import OutboundCall, ScamReport, ScamReportFile, ScamReportItem
from kefu.config import Settings
from kefu.identity.models import Customer
from kefu.storage import LocalStorage

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SPAM_NUMBER = "17100003333"


@pytest.fixture
def seeded(db: Session) -> Session:
    registry.seed_demo(db)
    db.commit()
    return db


@pytest.fixture
def storage(client: TestClient, tmp_path: Path) -> LocalStorage:
    store = LocalStorage(tmp_path)
    client.app.state.storage = store  # type: ignore[attr-defined]
    return store


def _report(
    client: TestClient,
    value: str,
    *,
    description: str = "",
    files: list[tuple[str, bytes]] | None = None,
    lang: str = "zh-CN",
) -> Response:
    form = client.get(f"/help/report?lang={lang}")
    return client.post(
        "/help/report",
        data={"value": value, "description": description, "csrf_token": csrf(form.text)},
        files=[("screenshots", (name, data, "image/png")) for name, data in files or []],
    )


def _stored(store: LocalStorage) -> list[Path]:
    return [path for path in store.root.rglob("*") if path.is_file()]


def test_report_with_a_screenshot_then_thanks(
    client: TestClient, seeded: Session, storage: LocalStorage
) -> None:
    form = client.get("/help/report", params={"value": SPAM_NUMBER, "lang": "zh-CN"})
    assert form.status_code == 200
    assert f'name="value" value="{SPAM_NUMBER}"' in form.text  # filled in from a verdict
    assert 'enctype="multipart/form-data"' in form.text
    thanks = _report(
        client,
        "+86 171-0000-3333",
        description="自称客服说要退款，让我报验证码 483920",
        files=[("call.png", PNG)],
    )
    assert thanks.status_code == 201, thanks.text
    assert "谢谢您的举报" in thanks.text
    assert "目前共被举报 1 次" in thanks.text and "已收到 1 张截图" in thanks.text
    assert "接下来会怎样" in thanks.text
    report = seeded.scalar(select(ScamReport).where(ScamReport.value.contains("171")))
    assert report is not None and report.report_count == 1
    item = seeded.scalar(select(ScamReportItem).where(ScamReportItem.report_id == report.id))
    assert item is not None and "483920" not in item.description  # masked before it is stored
    assert item.customer_id is None and item.lang == "zh-CN"
    shot = seeded.scalar(select(ScamReportFile).where(ScamReportFile.item_id == item.id))
    assert shot is not None and shot.content_type == "image/png"
    assert [p.read_bytes() for p in _stored(storage)] == [PNG]

    # the same person again the same day: kept, not counted, and told so
    again = _report(client, SPAM_NUMBER, description="又打来了")
    assert again.status_code == 201
    assert "目前共被举报 1 次" in again.text and "您今天已经举报过它" in again.text
    # the verdict now says others reported it
    verdict = antifraud_service.check_value(seeded, SPAM_NUMBER, lang="zh-CN")
    assert verdict.verdict == "not_official" and "已有 1 人举报它可疑" in verdict.reason


def test_report_in_english_and_an_empty_file_field(
    client: TestClient, seeded: Session, storage: LocalStorage
) -> None:
    form = client.get("/help/report?lang=en")
    # what Chromium sends for a file field left empty: a part with an empty file name
    boundary = "kefu-test-boundary"
    parts = [
        'name="csrf_token"\r\n\r\n' + csrf(form.text),
        'name="value"\r\n\r\nkefu-wa11et.com.cn',
        'name="screenshots"; filename=""\r\nContent-Type: application/octet-stream\r\n\r\n',
    ]
    body = "".join(f"--{boundary}\r\nContent-Disposition: form-data; {part}\r\n" for part in parts)
    thanks = client.post(
        "/help/report",
        content=(body + f"--{boundary}--\r\n").encode(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert thanks.status_code == 201, thanks.text
    assert "Thank you for your report" in thanks.text
    assert "Screenshots received" not in thanks.text
    assert _stored(storage) == []


def test_reporting_an_official_number_warns_of_spoofing(
    client: TestClient, seeded: Session, storage: LocalStorage
) -> None:
    thanks = _report(client, "95099", description="来电显示 95099，让我转账到安全账户")
    assert thanks.status_code == 201
    assert "这是我们的官方渠道" in thanks.text and "再自己拨打 95099 核实" in thanks.text
    # the registry still says it is ours: a report alone changes nothing
    assert antifraud_service.check_value(seeded, "95099", lang="zh-CN").verdict == "official"


def test_bad_reports_come_back_with_the_reason(
    client: TestClient, seeded: Session, settings: Settings, storage: LocalStorage
) -> None:
    empty = _report(client, "  ", description="写了描述")
    assert empty.status_code == 400
    assert "请填写要举报的电话号码" in empty.text and 'role="alert"' in empty.text
    assert "写了描述" in empty.text  # what was typed is kept
    assert 'aria-invalid="true" aria-describedby="report-error report-value-hint"' in empty.text
    nonsense = _report(client, "<script>alert(1)</script>")
    assert nonsense.status_code == 400
    assert "无法识别" in nonsense.text and "<script>alert" not in nonsense.text
    pdf = _report(client, SPAM_NUMBER, files=[("x.png", b"%PDF-1.7 ...")])
    assert pdf.status_code == 415
    assert "截图只接受 PNG、JPEG、GIF 或 WebP 图片" in pdf.text
    assert f'value="{SPAM_NUMBER}"' in pdf.text
    assert 'aria-describedby="report-error report-screenshots-hint"' in pdf.text
    many = _report(client, SPAM_NUMBER, files=[("x.png", PNG)] * (reports.MAX_SCREENSHOTS + 1))
    assert many.status_code == 400 and "一次最多上传 3 张截图" in many.text
    huge = _report(
        client, SPAM_NUMBER, files=[("x.png", PNG + bytes(settings.attachment_max_bytes))]
    )
    assert huge.status_code == 413 and "附件太大" in huge.text
    hollow = _report(client, SPAM_NUMBER, files=[("x.png", b"")])
    assert hollow.status_code == 400 and "空文件" in hollow.text
    english = _report(client, "???", lang="en")
    assert english.status_code == 400 and "Not recognised" in english.text
    assert seeded.scalar(select(ScamReport)) is None
    assert _stored(storage) == []
    forged = client.post("/help/report", data={"value": SPAM_NUMBER, "csrf_token": "forged"})
    assert forged.status_code == 403


def test_one_hourly_limit_with_the_api(
    client: TestClient, seeded: Session, settings: Settings, storage: LocalStorage
) -> None:
    half = settings.antifraud_reports_per_hour // 2
    for n in range(half):
        assert (
            client.post("/api/v1/antifraud/reports", data={"value": f"1701234{n:04d}"}).status_code
            == 201
        )
    for n in range(half, settings.antifraud_reports_per_hour):
        assert _report(client, f"1701234{n:04d}").status_code == 201
    refused = _report(client, "17099998888", description="第十一次")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert "尝试次数过多" in refused.text and "第十一次" in refused.text
    assert (
        client.post("/api/v1/antifraud/reports", data={"value": "17099998888"}).status_code == 429
    )


def test_links_to_the_report_and_call_pages(client: TestClient, seeded: Session) -> None:
    home = client.get("/help?lang=zh-CN").text
    assert 'href="/help/calling-me"' in home and 'href="/help/report"' in home
    assert "核实来电" in home and "举报诈骗" in home
    contact = client.get("/help/contact?lang=zh-CN").text
    assert "遇到冒充我们的人？" in contact and 'href="/help/report"' in contact
    not_ours = client.get("/help/verify", params={"value": SPAM_NUMBER, "lang": "zh-CN"}).text
    assert 'href="/help/report?value=171%200000%203333"' in not_ours  # as the verdict shows it
    scam = client.get("/help/verify", params={"value": "kefu-wallet-refund.com"}).text
    assert 'href="/help/report?value=kefu-wallet-refund.com"' in scam
    ours = client.get("/help/verify", params={"value": "95099", "lang": "zh-CN"}).text
    assert "/help/report?value=" not in ours  # nothing to report about our own hotline


# --- is someone from you calling me? ----------------------------------------------------


def _verify_for_calls(client: TestClient, db: Session, customer: Customer) -> Response:
    start = client.get("/help/calling-me")
    assert start.status_code == 401
    code_page = client.post(
        "/help/calling-me/code",
        data={"contact": customer.phone or "", "csrf_token": csrf(start.text)},
    )
    assert code_page.status_code == 200, code_page.text
    assert 'action="/help/calling-me/confirm"' in code_page.text
    return client.post(
        "/help/calling-me/confirm",
        data={**hidden_fields(code_page.text), "code": code_from_outbox(db, customer.phone or "")},
        follow_redirects=False,
    )


def _register_call(
    db: Session, settings: Settings, customer: Customer, *, case: bool = True
) -> OutboundCall:
    staff = make_staff(db)
    reference = make_case(db, settings, customer_id=customer.id).reference if case else None
    call = antifraud_service.register_outbound_call(
        db,
        staff_id=staff.id,
        agent_name="张敏",
        customer_id=customer.id,
        reason="核实您的充值退款",
        case_reference=reference,
        actor=audit.Actor(name=f"staff:{staff.username}", role="agent"),
    )
    db.commit()
    return call


def test_no_call_registered_means_hang_up(client: TestClient, seeded: Session) -> None:
    customer = make_customer(seeded)
    seeded.commit()
    confirmed = _verify_for_calls(client, seeded, customer)
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/help/calling-me"
    cookie = next(h for h in confirmed.headers.get_list("set-cookie") if "kefu_customer=" in h)
    assert "HttpOnly" in cookie and "Path=/help" in cookie
    page = client.get("/help/calling-me")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "没有我们的工作人员在给您打电话" in page.text and "请立即挂断" in page.text
    assert 'href="tel:95099"' in page.text  # call us yourself, from the registry
    assert customer.name in page.text
    # a report made while verified is kept with the customer, for the specialist
    assert _report(client, SPAM_NUMBER).status_code == 201
    item = seeded.scalar(select(ScamReportItem).order_by(ScamReportItem.id.desc()))
    assert item is not None and item.customer_id == customer.id


def test_a_registered_call_is_confirmed_with_agent_case_and_number(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    customer = make_customer(seeded)
    call = _register_call(seeded, settings, customer)
    assert _verify_for_calls(client, seeded, customer).status_code == 303
    page = client.get("/help/calling-me")
    assert "是我们在给您打电话" in page.text
    assert "张敏" in page.text and f"工号 {call.staff_id:04d}" in page.text
    assert f'href="/help/cases/{call.case_reference}"' in page.text
    assert "021 6080 9595" in page.text and "核实您的充值退款" in page.text
    same = client.get("/help/calling-me", params={"number": "+86 21 6080 9595"})
    assert "是我们在给您打电话" in same.text
    spoofed = client.get("/help/calling-me", params={"number": SPAM_NUMBER})
    assert "没有我们的工作人员在给您打电话" in spoofed.text
    assert f"请挂断 {SPAM_NUMBER}" in spoofed.text
    assert f'href="/help/report?value={SPAM_NUMBER}"' in spoofed.text
    english = client.get("/help/calling-me?lang=en")
    assert "Yes, this call is from us" in english.text and "staff no." in english.text
    assert client.get("/help/calling-me", params={"number": "1" * 65}).status_code == 400


def test_another_customers_call_is_not_confirmed(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    caller_target, asker = make_customer(seeded), make_customer(seeded, language="en")
    _register_call(seeded, settings, caller_target, case=False)
    assert _verify_for_calls(client, seeded, asker).status_code == 303
    page = client.get("/help/calling-me")
    assert "No one from us is calling you" in page.text  # the customer's own language
    assert "张敏" not in page.text and caller_target.name not in page.text


def test_the_case_tracking_cookie_also_answers(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    customer = make_customer(seeded)
    case = make_case(seeded, settings, customer_id=customer.id)
    seeded.commit()
    form = client.get("/help/track")
    code_page = client.post(
        "/help/track",
        data={
            "reference": case.reference,
            "contact": customer.phone,
            "csrf_token": csrf(form.text),
        },
    )
    client.post(
        "/help/track/confirm",
        data={
            **hidden_fields(code_page.text),
            "code": code_from_outbox(seeded, customer.phone or ""),
        },
    )
    assert client.get("/help/calling-me").status_code == 200
    # and starting again while verified goes straight to the answer, with no second code
    again = client.post(
        "/help/calling-me/code",
        data={"contact": customer.phone, "csrf_token": csrf(form.text)},
        follow_redirects=False,
    )
    assert again.status_code == 303 and again.headers["location"] == "/help/calling-me"


def test_wrong_codes_resend_and_lock(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    customer = make_customer(seeded)
    seeded.commit()
    start = client.get("/help/calling-me")
    assert "请先用验证码确认是您本人" in start.text and 'name="contact"' in start.text
    token = csrf(start.text)
    bad_contact = client.post("/help/calling-me/code", data={"contact": "abc", "csrf_token": token})
    assert bad_contact.status_code == 400 and 'role="alert"' in bad_contact.text
    code_page = client.post(
        "/help/calling-me/code", data={"contact": customer.phone, "csrf_token": token}
    )
    assert "念给他听" in code_page.text  # a caller asking for this code is a scammer
    fields = hidden_fields(code_page.text)
    assert set(fields) == {"csrf_token", "verification_id", "destination"}
    resent = client.post("/help/calling-me/resend", data=fields)
    assert resent.status_code == 429  # too soon after the first code
    assert 'action="/help/calling-me/confirm"' in resent.text
    real = code_from_outbox(seeded, customer.phone or "")
    wrong = "000000" if real != "000000" else "111111"
    for _ in range(settings.otp_max_attempts - 1):
        again = client.post("/help/calling-me/confirm", data={**fields, "code": wrong})
        assert again.status_code == 400 and 'name="code"' in again.text
    locked = client.post("/help/calling-me/confirm", data={**fields, "code": wrong})
    assert locked.status_code == 423 and 'name="contact"' in locked.text
    late = client.post("/help/calling-me/confirm", data={**fields, "code": real})
    assert late.status_code == 423
    assert client.get("/help/calling-me").status_code == 401
    assert client.post("/help/calling-me/confirm", data={"code": real}).status_code == 403
    assert real not in late.text
