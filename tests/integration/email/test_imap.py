"""Mail fetched from a real IMAP mailbox (Dovecot on loopback): unseen mail stored and
then flagged seen, a stop between the two fetched again but threaded once, mail stored
and never processed picked up by the resume job, and a wrong login or folder named."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from kefu import jobs
from kefu.cases import service as cases_service
from kefu.cases import timeline
from kefu.config import Settings
from kefu.db import utcnow
from kefu.errors import ConfigError
from kefu.inbound.email import imap, intake
from kefu.inbound.email import jobs as mail_jobs
from kefu.inbound.email.models import InboundMail

from .dovecot import Dovecot, running

EML = Path(__file__).parents[2] / "fixtures" / "eml"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    if shutil.which("dovecot") is None:
        pytest.skip("needs Dovecot: apt-get install dovecot-imapd (.ci/run installs it)")
    with running() as server:
        yield server


@pytest.fixture
def mailbox(dovecot: Dovecot) -> Dovecot:
    """The shared server's mailbox, emptied for each test."""
    with dovecot.mailbox() as client:
        client.uid("STORE", "1:*", "+FLAGS", "(\\Deleted)")
        client.expunge()
    return dovecot


@pytest.fixture
def sessions(isolated_database: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=isolated_database, expire_on_commit=False)


@pytest.fixture
def imap_settings(settings: Settings, dovecot: Dovecot, tmp_path: Path) -> Settings:
    return settings.model_copy(
        update={
            "imap_host": "127.0.0.1",
            "imap_port": dovecot.port,
            "imap_ssl": False,
            "imap_user": dovecot.user,
            "imap_password": dovecot.password,
            "storage_dir": str(tmp_path / "attachments"),
            "email_from": "support@kefu-wallet.com.cn",
        }
    )


def eml(name: str) -> bytes:
    return (EML / name).read_bytes()


def stored(sessions: sessionmaker[Session], ids: list[int]) -> list[InboundMail]:
    with sessions() as db:
        return list(db.scalars(select(InboundMail).where(InboundMail.id.in_(ids))))


def test_unseen_mail_is_stored_then_flagged_seen_and_fetched_once(
    mailbox: Dovecot, imap_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    mailbox.deliver(eml("gb2312_base64.eml"))
    mailbox.deliver(eml("utf8_quoted_printable.eml"))
    mailbox.deliver(eml("html_only.eml"), seen=True)  # read in a mail client: not ours
    ids = imap.fetch(imap_settings, sessions)
    rows = stored(sessions, ids)
    assert len(ids) == 2 and {row.source for row in rows} == {"imap"}
    assert {row.status for row in rows} == {"received"}
    assert mailbox.unseen() == 0
    assert imap.fetch(imap_settings, sessions) == []


def test_a_stop_before_flagging_fetches_again_but_the_case_gets_it_once(
    mailbox: Dovecot, imap_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    mailbox.deliver(eml("gbk_quoted_printable.eml"))
    [first] = imap.fetch(imap_settings, sessions)
    mailbox.mark_all_unseen()  # as if the process stopped between the commit and the flag
    [again] = imap.fetch(imap_settings, sessions)
    assert again != first
    with sessions() as db:
        opened = intake.process(db, mail_id=first, settings=imap_settings, now=utcnow())
        repeated = intake.process(db, mail_id=again, settings=imap_settings, now=utcnow())
        db.commit()
        first_row, again_row = db.get(InboundMail, first), db.get(InboundMail, again)
        assert first_row is not None and again_row is not None
        assert again_row.case_reference == first_row.case_reference
        assert opened.outgoing_ids and repeated.outgoing_ids == []
        case = cases_service.get_case(db, first_row.case_reference or "")
        assert [e.kind for e in timeline.events(db, case)].count("message") == 1


def test_mail_stored_but_never_processed_is_queued_again(
    mailbox: Dovecot, imap_settings: Settings, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    mailbox.deliver(eml("gb2312_base64.eml"))
    [mail_id] = imap.fetch(imap_settings, sessions)
    queue = jobs.build_queue(
        imap_settings.model_copy(
            update={"jobs_backend": "sqlite", "jobs_sqlite_path": str(tmp_path / "jobs.db")}
        )
    )
    try:
        assert mail_jobs.resume(sessions, queue, utcnow()) == []  # its job may still run
        later = utcnow() + mail_jobs.RESUME_AFTER + timedelta(seconds=1)
        assert mail_jobs.resume(sessions, queue, later) == [mail_id]
        assert len(queue.huey) == 1
        with sessions() as db:
            intake.process(db, mail_id=mail_id, settings=imap_settings, now=later)
            db.commit()
        assert mail_jobs.resume(sessions, queue, later) == []
    finally:
        queue.huey.storage.close()


def test_a_refused_login_and_a_missing_folder_are_named(
    mailbox: Dovecot, imap_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    wrong = imap_settings.model_copy(update={"imap_password": "not-the-password"})
    with pytest.raises(ConfigError, match="refused KEFU_IMAP_USER"):
        imap.fetch(wrong, sessions)
    missing = imap_settings.model_copy(update={"imap_folder": "Support"})
    with pytest.raises(ConfigError, match="KEFU_IMAP_FOLDER='Support'"):
        imap.fetch(missing, sessions)
