"""Case tracking on the help center: reference and contact, a one-time code from the
outbox, then the customer's own case page with reply and attachments."""

from __future__ import annotations

import re
import uuid

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.integration.cases.case_helpers import make_case
from tests.integration.web.web_helpers import code_from_outbox, csrf, hidden_fields

from kefu.cases import timeline
from kefu.cases.models import Case
from kefu.channels import outbox
from kefu.config import Settings
from kefu.identity import service as identity_service
from kefu.identity.models import Customer

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _customer(db: Session, *, name: str = "陈静", language: str = "zh-CN") -> Customer:
    n = uuid.uuid4().int % 10**8
    customer = identity_service.create_customer(
        db,
        wallet_account_id=f"H{n:09d}",
        name=name,
        phone=f"+86136{n:08d}",
        language=language,
    )
    db.commit()
    return customer


def _start(client: TestClient, reference: str, contact: str):  # type: ignore[no-untyped-def]
    form = client.get("/help/track")
    return client.post(
        "/help/track",
        data={"reference": reference, "contact": contact, "csrf_token": csrf(form.text)},
    )


def _verify(client: TestClient, db: Session, case: Case, customer: Customer):  # type: ignore[no-untyped-def]
    code_page = _start(client, case.reference.lower().replace("-", " "), customer.phone or "")
    assert code_page.status_code == 200, code_page.text
    fields = hidden_fields(code_page.text)
    assert customer.phone and customer.phone[-4:] in code_page.text  # masked destination
    return client.post(
        "/help/track/confirm",
        data={**fields, "code": code_from_outbox(db, customer.phone)},
        follow_redirects=False,
    )


def test_track_verify_and_see_the_case(client: TestClient, db: Session, settings: Settings) -> None:
    customer = _customer(db)
    case = make_case(db, settings, customer_id=customer.id)
    db.commit()
    confirmed = _verify(client, db, case, customer)
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == f"/help/cases/{case.reference}"
    cookie = next(h for h in confirmed.headers.get_list("set-cookie") if "kefu_customer=" in h)
    assert "HttpOnly" in cookie and "Path=/help" in cookie
    page = client.get(confirmed.headers["location"])
    assert page.status_code == 200
    assert case.reference in page.text
    assert "充值100元没到账" in page.text  # the public timeline
    assert "陈静，您好" in page.text
    code = code_from_outbox(db, customer.phone or "")
    assert code not in page.text


def test_reply_and_attachments_on_the_case(
    client: TestClient, db: Session, settings: Settings
) -> None:
    customer = _customer(db)
    case = make_case(db, settings, customer_id=customer.id)
    db.commit()
    page = client.get(_verify(client, db, case, customer).headers["location"])
    token = csrf(page.text)
    sent = client.post(
        f"/help/cases/{case.reference}/messages",
        data={"body": "银行说钱已经扣了，卡号 6222020200112233446", "csrf_token": token},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    texts = [e.body for e in timeline.events(db, case, public_only=True)]
    assert any(t and "银行说钱已经扣了" in t and "6222020200112233446" not in t for t in texts)
    empty = client.post(
        f"/help/cases/{case.reference}/messages", data={"body": "  ", "csrf_token": token}
    )
    assert empty.status_code == 400
    uploaded = client.post(
        f"/help/cases/{case.reference}/attachments",
        data={"csrf_token": token},
        files={"file": ("回单.png", PNG, "image/png")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303
    page = client.get(f"/help/cases/{case.reference}")
    link = re.search(rf"/help/cases/{case.reference}/attachments/([0-9a-f]+)", page.text)
    assert link and "回单.png" in page.text
    download = client.get(link.group(0))
    assert download.status_code == 200 and download.content == PNG
    refused = client.post(
        f"/help/cases/{case.reference}/attachments",
        data={"csrf_token": token},
        files={"file": ("x.exe", b"MZ" + b"\x00" * 10, "application/octet-stream")},
    )
    assert refused.status_code == 415
    forged = client.post(
        f"/help/cases/{case.reference}/messages", data={"body": "hi", "csrf_token": "forged"}
    )
    assert forged.status_code == 403


def test_another_customers_case_stayshidden_fields(
    client: TestClient, db: Session, settings: Settings
) -> None:
    mine, theirs = _customer(db), _customer(db, name="周婷")
    my_case = make_case(db, settings, customer_id=mine.id)
    their_case = make_case(db, settings, customer_id=theirs.id, description="他人的秘密")
    db.commit()
    _verify(client, db, my_case, mine)
    page = client.get(f"/help/cases/{their_case.reference}")
    assert page.status_code == 404
    assert "他人的秘密" not in page.text
    assert theirs.name not in page.text
    stranger = client.get(f"/help/cases/{their_case.reference}/attachments/abc")
    assert stranger.status_code == 404


def test_without_verification_the_case_page_asks_for_it(
    client: TestClient, db: Session, settings: Settings
) -> None:
    customer = _customer(db)
    case = make_case(db, settings, customer_id=customer.id)
    db.commit()
    page = client.get(f"/help/cases/{case.reference}?lang=zh-CN")
    assert page.status_code == 401
    assert "请先验证身份" in page.text
    assert "充值100元没到账" not in page.text


def test_wrong_codes_count_and_lock(client: TestClient, db: Session, settings: Settings) -> None:
    customer = _customer(db)
    case = make_case(db, settings, customer_id=customer.id)
    db.commit()
    fields = hidden_fields(_start(client, case.reference, customer.phone or "").text)
    real = code_from_outbox(db, customer.phone or "")
    wrong = "000000" if real != "000000" else "111111"
    for _ in range(settings.otp_max_attempts - 1):
        again = client.post("/help/track/confirm", data={**fields, "code": wrong})
        assert again.status_code == 400
        assert 'name="code"' in again.text
    locked = client.post("/help/track/confirm", data={**fields, "code": wrong})
    assert locked.status_code == 423
    assert 'name="contact"' in locked.text  # back to the start
    late = client.post("/help/track/confirm", data={**fields, "code": real})
    assert late.status_code == 423


def test_typos_and_strangers_get_no_case(
    client: TestClient, db: Session, settings: Settings
) -> None:
    customer = _customer(db)
    case = make_case(db, settings, customer_id=customer.id)
    db.commit()
    typo = case.reference[:-1] + ("A" if case.reference[-1] != "A" else "B")
    mistyped = _start(client, typo, customer.phone or "")
    assert mistyped.status_code == 422
    assert "校验位不对" in mistyped.text
    assert outbox.latest(db, to=customer.phone, limit=5) == []
    unknown = _start(client, case.reference, "+8613000000000")
    assert unknown.status_code == 200  # the same answer as for a customer
    assert "验证码" in unknown.text
    assert client.post("/help/track", data={"reference": case.reference}).status_code == 403
