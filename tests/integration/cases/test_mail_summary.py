"""The summary after a mail exchange: a mailed-in case offers the summary filled in (the
case page's resolve form, the staff API's ``summary_draft``); resolving it answers the
agent's edit in the customer's mail thread, keeps it on the timeline, and sends no SMS
notice beside it. A summary longer than a summary may be is refused with the reason."""

from __future__ import annotations

import email.message
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import staff_token
from tests.integration.cases.case_helpers import make_case

from kefu.cases.models import Case, CaseEvent, CaseNotification
from kefu.channels.email.models import EmailMessage
from kefu.channels.models import OutboxMessage
from kefu.config import Settings
from kefu.inbound.email import intake


def _mailed_case(db: Session, settings: Settings) -> Case:
    mail = email.message.EmailMessage()
    mail["From"] = "王磊 <wang.lei@example.cn>"
    mail["To"] = "support@kefu-wallet.com.cn"
    mail["Subject"] = "提现三天没到账"
    mail["Message-ID"] = "<summary-0001@example.cn>"
    mail["Date"] = "Mon, 07 Dec 2026 09:00:00 +0800"
    mail.set_content("我周五提现 500 元到招商银行，到现在还没到账。")
    now = datetime.now(UTC)
    row = intake.receive(
        db,
        raw=mail.as_bytes(),
        source="smtp",
        envelope_from="wang.lei@example.cn",
        envelope_to=["support@kefu-wallet.com.cn"],
        now=now,
    )
    result = intake.process(db, mail_id=row.id, settings=settings, now=now)
    db.commit()
    case = db.scalar(select(Case).where(Case.reference == result.case_reference))
    assert case is not None
    return case


def test_a_mail_exchange_ends_with_the_edited_summary_in_its_thread(
    client: TestClient, db: Session, settings: Settings
) -> None:
    case = _mailed_case(db, settings)
    auth = {"Authorization": f"Bearer {staff_token(client, db, 'agent')}"}
    base = f"/api/v1/cases/{case.reference}"
    read = client.get(base, headers=auth).json()
    drafted = read["summary_draft"]
    assert drafted.startswith("【客服小结】本次邮件沟通已结束。")
    assert case.reference in drafted and "如需跟进" in drafted

    too_long = client.post(
        f"{base}/resolve",
        json={"summary": "长" * 1001, "resolution_code": "answered", "version": read["version"]},
        headers=auth,
    )
    assert too_long.status_code == 400 and too_long.json()["error"]["code"] == "invalid_input"
    db.expire_all()
    assert db.get(Case, case.id).status != "resolved"  # type: ignore[union-attr]

    edited = drafted.replace("客服已了解并记录您的问题", "银行已确认 500 元退回您的银行卡")
    sms_before = len(db.scalars(select(OutboxMessage)).all())
    resolved = client.post(
        f"{base}/resolve",
        json={"summary": edited, "resolution_code": "answered", "version": read["version"]},
        headers=auth,
    )
    assert resolved.status_code == 200, resolved.text
    db.expire_all()
    mails = db.scalars(
        select(EmailMessage).where(
            EmailMessage.case_reference == case.reference, EmailMessage.direction == "out"
        )
    ).all()
    answered = [m for m in mails if "银行已确认 500 元退回您的银行卡" in (m.body or "")]
    assert len(answered) == 1 and answered[0].in_reply_to == "<summary-0001@example.cn>"
    kept = db.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "notification")
    ).all()
    assert [e.body for e in kept if e.body == edited] == [edited]
    assert db.scalar(
        select(CaseNotification).where(
            CaseNotification.case_id == case.id, CaseNotification.kind == "summary"
        )
    )
    assert len(db.scalars(select(OutboxMessage)).all()) == sms_before  # no SMS beside it
    after = client.get(base, headers=auth).json()
    assert after["status"] == "resolved" and after["summary_draft"] is None


def test_a_case_without_a_mail_thread_has_no_mail_summary(
    client: TestClient, db: Session, settings: Settings
) -> None:
    case = make_case(db, settings)
    db.commit()
    auth = {"Authorization": f"Bearer {staff_token(client, db, 'agent')}"}
    assert (
        client.get(f"/api/v1/cases/{case.reference}", headers=auth).json()["summary_draft"] is None
    )
