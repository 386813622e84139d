"""Inbound mail into cases through the real parser and the cases service, on the test DB."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import make_customer

from kefu.cases import service as cases_service
from kefu.cases import timeline
from kefu.cases.models import CaseAttachment
from kefu.channels.email import outgoing
from kefu.channels.email.models import EmailMessage
from kefu.config import Settings
from kefu.inbound.email import intake
from kefu.inbound.email.models import InboundMail

EML = Path(__file__).parents[2] / "fixtures" / "eml"
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
def mail_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(
        update={"storage_dir": str(tmp_path), "email_from": "support@kefu-wallet.com.cn"}
    )


def take(db: Session, settings: Settings, raw: bytes) -> tuple[InboundMail, intake.Processed]:
    row = intake.receive(
        db,
        raw=raw,
        source="smtp",
        envelope_from="x@example.cn",
        envelope_to=["support@kefu-wallet.com.cn"],
        now=NOW,
    )
    result = intake.process(db, mail_id=row.id, settings=settings, now=NOW)
    return row, result


def fixture(name: str, **replace: str) -> bytes:
    raw = (EML / name).read_bytes()
    for old, new in replace.items():
        raw = raw.replace(old.encode(), new.encode())
    return raw


def test_unknown_sender_opens_an_unverified_case_and_is_acknowledged(
    db: Session, mail_settings: Settings
) -> None:
    row, result = take(db, mail_settings, fixture("gb2312_base64.eml"))
    assert result.status == row.status == "unverified"
    case = cases_service.get_case(db, row.case_reference or "")
    assert case.channel == "email" and case.subject == "充值不到账，钱被扣了"
    events = timeline.events(db, case)
    assert any(e.kind == "message" and "王喆" in (e.body or "") for e in events)
    assert any(e.kind == "note" and "未验证" in (e.body or "") for e in events)
    assert row.raw is None and row.processed_at == NOW
    [ack] = db.scalars(select(EmailMessage).where(EmailMessage.id.in_(result.outgoing_ids)))
    assert ack.address == "wang.stranger@example.cn"
    assert ack.in_reply_to == "<gb2312-0001@example.cn>"
    assert case.reference in ack.subject and ack.subject.startswith("Re: ")
    assert case.reference in (ack.body or "")


def test_registered_sender_is_verified_and_secrets_are_masked(
    db: Session, mail_settings: Settings
) -> None:
    customer = make_customer(db)
    raw = fixture("utf8_quoted_printable.eml", **{"chen.jing@example.com": customer.email or ""})
    row, result = take(db, mail_settings, raw)
    assert result.status == "processed"
    case = cases_service.get_case(db, row.case_reference or "")
    assert case.customer_id == customer.id
    text = " ".join(e.body or "" for e in timeline.events(db, case))
    assert "6222 0202 0011 2233 446" not in text and "834201" not in text
    assert "***3 446" in text


def test_reply_threads_by_in_reply_to_and_by_subject_reference(
    db: Session, mail_settings: Settings
) -> None:
    first, _ = take(db, mail_settings, fixture("multipart_png.eml"))
    case = cases_service.get_case(db, first.case_reference or "")
    [attachment] = db.scalars(select(CaseAttachment).where(CaseAttachment.case_id == case.id))
    assert attachment.filename == "截图.png"
    assert (Path(mail_settings.storage_dir) / attachment.storage_key).read_bytes()[:4] == b"\x89PNG"

    reply, result = take(db, mail_settings, fixture("reply_in_reply_to.eml"))
    assert reply.case_reference == case.reference and result.outgoing_ids == []
    messages = [e.body for e in timeline.events(db, case) if e.kind == "message"]
    assert messages[-1] == "我又试了一次，还是失败。"

    # no threading headers, only the reference in the subject
    by_subject = fixture(
        "reply_in_reply_to.eml",
        **{
            "In-Reply-To: <zhang-first-0005@example.cn>\r\n": "",
            "References: <zhang-first-0005@example.cn>\r\n": "",
            "<zhang-reply-0006@example.cn>": "<zhang-reply-0010@example.cn>",
            "Subject: ": f"Subject: [{case.reference.lower()}] ",
        },
    )
    third, _ = take(db, mail_settings, by_subject)
    assert third.case_reference == case.reference


def test_same_mail_twice_lands_once(db: Session, mail_settings: Settings) -> None:
    first, _ = take(db, mail_settings, fixture("gbk_quoted_printable.eml"))
    again, result = take(db, mail_settings, fixture("gbk_quoted_printable.eml"))
    assert again.case_reference == first.case_reference and result.outgoing_ids == []
    case = cases_service.get_case(db, first.case_reference or "")
    assert len([e for e in timeline.events(db, case) if e.kind == "message"]) == 1


def test_a_stranger_quoting_a_reference_gets_a_new_case(
    db: Session, mail_settings: Settings
) -> None:
    first, _ = take(db, mail_settings, fixture("multipart_png.eml"))
    raw = fixture(
        "html_only.eml", **{"Subject: Cannot log in": f"Subject: about {first.case_reference}"}
    )
    other, _ = take(db, mail_settings, raw)
    assert other.case_reference != first.case_reference
    case = cases_service.get_case(db, other.case_reference or "")
    assert any(
        first.case_reference in (e.body or "")
        for e in timeline.events(db, case)
        if e.kind == "note"
    )


def test_refused_attachments_are_noted_and_the_mail_kept(
    db: Session, mail_settings: Settings
) -> None:
    row, result = take(db, mail_settings, fixture("refused_attachments.eml"))
    assert result.status == "unverified"
    case = cases_service.get_case(db, row.case_reference or "")
    names = [
        a.filename
        for a in db.scalars(select(CaseAttachment).where(CaseAttachment.case_id == case.id))
    ]
    assert names == ["screen.png"]
    assert json.loads(row.notes or "{}")["refused"][0]["filename"] == "tool.exe"
    assert any("tool.exe" in (e.body or "") for e in timeline.events(db, case) if e.kind == "note")
    [ack] = db.scalars(select(EmailMessage).where(EmailMessage.id.in_(result.outgoing_ids)))
    assert "1 个附件未能收下" in (ack.body or "")


def test_unreadable_mail_is_kept_raw_and_flagged(db: Session, mail_settings: Settings) -> None:
    raw = (EML / "no_body.eml").read_bytes()
    row, result = take(db, mail_settings, raw)
    assert result.status == row.status == "failed"
    assert row.raw == raw and row.error
    assert row in intake.failed(db)
    intake.retry(db, mail_id=row.id)
    assert row.status == "received"


def test_agent_reply_queues_a_threaded_mail(db: Session, mail_settings: Settings) -> None:
    first, _ = take(db, mail_settings, fixture("multipart_png.eml"))
    take(db, mail_settings, fixture("reply_in_reply_to.eml"))
    queued = outgoing.queue_reply(
        db,
        case_reference=first.case_reference or "",
        subject="充值失败，附截图",
        body="已为您查询，银行正在处理。",
        purpose="reply",
        settings=mail_settings,
        now=NOW,
    )
    assert queued is not None
    assert queued.in_reply_to == "<zhang-reply-0006@example.cn>"
    assert (queued.references or "").split() == [
        "<zhang-first-0005@example.cn>",
        "<zhang-reply-0006@example.cn>",
    ]
    assert queued.message_id.endswith("@kefu-wallet.com.cn>")
