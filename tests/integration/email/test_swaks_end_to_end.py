"""End to end: Debian's swaks sends a Chinese mail with a PNG to ``kefu smtp``; a case
appears, and a reply with In-Reply-To threads into it."""

from __future__ import annotations

import shutil
import subprocess
from email.header import Header
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kefu.cases.models import Case, CaseAttachment, CaseEvent
from kefu.channels.email.models import EmailMessage
from kefu.inbound.email.models import InboundMail
from kefu.inbound.email.parse import parse_mail

from .mail_processes import free_port, kefu_env, port_open, start, stop, wait_for

SWAKS = shutil.which("swaks")
EML = Path(__file__).parents[2] / "fixtures" / "eml"
pytestmark = pytest.mark.skipif(SWAKS is None, reason="swaks is not installed (apt install swaks)")


def swaks(port: int, *args: str) -> str:
    assert SWAKS is not None
    done = subprocess.run(
        [SWAKS, "--server", f"127.0.0.1:{port}", "--from", "zhang.wei@example.cn", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return done.stdout + done.stderr


def test_swaks_mail_opens_a_case_and_a_reply_threads_into_it(
    isolated_database: Engine, tmp_path: Path
) -> None:
    png = tmp_path / "截图.png"
    png.write_bytes(parse_mail((EML / "multipart_png.eml").read_bytes()).attachments[0].data)
    port = free_port()
    env = kefu_env(isolated_database.url.render_as_string(hide_password=False), tmp_path)
    server = start(["smtp", "--port", str(port)], env, tmp_path / "smtp.log")
    try:
        wait_for(lambda: port_open(port), what="the smtp server")
        subject = Header("充值失败，钱已扣", "utf-8").encode()
        out = swaks(
            port,
            "--to", "support@kefu-wallet.com.cn",
            "--header", f"Subject: {subject}",
            "--header", "Message-Id: <swaks-first@example.cn>",
            "--body", "充值一直失败，截图见附件。",
            "--attach-type", "image/png",
            "--attach-name", "screen.png",
            "--attach", f"@{png}",
        )  # fmt: skip
        assert "250 2.0.0 OK queued as" in out, out

        refused = swaks(port, "--to", "someone@elsewhere.example", "--body", "hi")
        assert "550 5.1.1" in refused, refused

        def settled(message_id: str) -> str | None:
            with Session(isolated_database) as db:
                row = db.scalar(select(InboundMail).where(InboundMail.message_id == message_id))
                return row.case_reference if row is not None and row.status != "received" else None

        def sent_ack(reference: str) -> EmailMessage | None:
            with Session(isolated_database) as db:
                return db.scalar(
                    select(EmailMessage).where(
                        EmailMessage.case_reference == reference,
                        EmailMessage.direction == "out",
                        EmailMessage.status == "sent",
                    )
                )

        reference = wait_for(lambda: settled("<swaks-first@example.cn>"), what="the case")
        with Session(isolated_database) as db:
            case = db.scalar(select(Case).where(Case.reference == reference))
            assert case is not None and case.subject == "充值失败，钱已扣"
            files = db.scalars(
                select(CaseAttachment.filename).where(CaseAttachment.case_id == case.id)
            )
            assert list(files) == ["screen.png"]
        ack = wait_for(lambda: sent_ack(reference), what="the acknowledgement")
        assert ack.in_reply_to == "<swaks-first@example.cn>"

        out = swaks(
            port,
            "--to", "support@kefu-wallet.com.cn",
            "--header", "Subject: Re: 充值失败",
            "--header", "Message-Id: <swaks-second@example.cn>",
            "--header", f"In-Reply-To: {ack.message_id}",
            "--body", "还是没有到账。",
        )  # fmt: skip
        assert "250 2.0.0 OK queued as" in out, out
        assert wait_for(lambda: settled("<swaks-second@example.cn>"), what="the reply") == reference
        with Session(isolated_database) as db:
            bodies = db.scalars(
                select(CaseEvent.body).where(
                    CaseEvent.case_id == case.id, CaseEvent.kind == "message"
                )
            )
            assert list(bodies)[-1] == "还是没有到账。"
    finally:
        stop(server)
