"""Every mail the SMTP server accepts is stored raw first, through the real aiosmtpd server
and smtplib: headers that cannot be decoded, NUL characters and a wrong declared charset
never make the server answer 451 (the sender would retry until the mail bounces), and the
text of a mail in the wrong charset is decoded by detection, not failed."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from tests.integration.email.mail_processes import free_port

from kefu.cases import service as cases_service
from kefu.cases import timeline
from kefu.config import Settings
from kefu.inbound.email import intake
from kefu.inbound.email.models import InboundMail
from kefu.inbound.email.server import build_controller

EML = Path(__file__).parents[2] / "fixtures" / "eml"
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
def smtp_port(db: Session, settings: Settings, tmp_path: Path) -> Iterator[int]:
    """The real SMTP server, storing into the test's database session."""

    def store(raw: bytes, envelope_from: str, envelope_to: list[str]) -> int:
        row = intake.receive(
            db,
            raw=raw,
            source="smtp",
            envelope_from=envelope_from,
            envelope_to=envelope_to,
            now=NOW,
        )
        db.commit()
        return row.id

    port = free_port()
    controller = build_controller(settings, store=store, host="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def _send(port: int, raw: bytes) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo()
        client.mail("sender@example.cn")
        client.rcpt("support@kefu-wallet.com.cn")
        return client.data(raw)


def _mail_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(
        update={"storage_dir": str(tmp_path), "email_from": "support@kefu-wallet.com.cn"}
    )


def _lines(raw: bytes) -> list[bytes]:
    return raw.replace(b"\r\n", b"\n").rstrip().split(b"\n")


def _stored(db: Session, reply: bytes) -> InboundMail:
    mail_id = int(reply.decode().rsplit(" ", 1)[1])
    row = db.get(InboundMail, mail_id)
    assert row is not None
    return row


@pytest.mark.parametrize(
    ("name", "expected_text"),
    [
        ("undecodable_subject.eml", "我昨天充值了200元"),
        ("gbk_labelled_gb2312.eml", "我叫王喆，昨天提现失败了"),  # GB2312 declared, GBK sent
        ("broken_charset.eml", "充值不到账"),  # UTF-8 declared, GBK sent
        ("nul_in_headers.eml", "我的账户被冻结了"),
    ],
)
def test_accepted_mail_is_stored_first_and_decoded(
    db: Session,
    settings: Settings,
    smtp_port: int,
    tmp_path: Path,
    name: str,
    expected_text: str,
) -> None:
    raw = (EML / name).read_bytes()
    code, reply = _send(smtp_port, raw)
    assert code == 250, reply
    row = _stored(db, reply)
    assert row.raw is not None
    assert _lines(row.raw) == _lines(raw)  # as sent, but for SMTP's line ends
    assert row.status == "received"
    assert "\x00" not in (row.subject or "") + row.from_address
    result = intake.process(
        db, mail_id=row.id, settings=_mail_settings(settings, tmp_path), now=NOW
    )
    assert result.status in ("processed", "unverified"), row.error
    assert result.case_reference is not None
    case = cases_service.get_case(db, result.case_reference)
    texts = " ".join(e.body or "" for e in timeline.events(db, case) if e.kind == "message")
    assert expected_text in texts and "\x00" not in texts


def test_headers_that_cannot_be_read_at_all_are_flagged_not_refused(
    db: Session, smtp_port: int
) -> None:
    """Not even the From line parses: the mail is still stored, with its error noted."""
    raw = b"From: =?utf-8?B?a?= <\x00\r\nSubject: =?x-unknown?Q?=ZZ?=\r\n\r\n\xff\xfe\x00body\r\n"
    code, reply = _send(smtp_port, raw)
    assert code == 250, reply
    row = _stored(db, reply)
    assert row.raw is not None and b"body" in row.raw
    assert row.status == "received"
