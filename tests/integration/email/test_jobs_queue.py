"""The job queue: a job survives a restart (SQLite file), and one enqueued on Redis runs in
a separate ``kefu worker`` process."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kefu import jobs
from kefu.config import Settings
from kefu.errors import ConfigError
from kefu.inbound.email import intake
from kefu.inbound.email.models import InboundMail

from .mail_processes import free_port, kefu_env, port_open, start, stop, wait_for

EML = Path(__file__).parents[2] / "fixtures" / "eml"
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def stored_mail(engine: Engine, name: str) -> int:
    with Session(engine) as db:
        row = intake.receive(
            db,
            raw=(EML / name).read_bytes(),
            source="smtp",
            envelope_from="",
            envelope_to=["support@kefu-wallet.com.cn"],
            now=NOW,
        )
        db.commit()
        return row.id


def status_of(engine: Engine, mail_id: int) -> str | None:
    with Session(engine) as db:
        row = db.get(InboundMail, mail_id)
        return row.status if row is not None and row.status != "received" else None


def test_a_job_queued_before_a_restart_runs_after_it(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    # a mail with no body only flags itself, so the shared test database gets no case
    mail_id = stored_mail(engine, "no_body.eml")
    on_file = settings.model_copy(
        update={"jobs_backend": "sqlite", "jobs_sqlite_path": str(tmp_path / "jobs.db")}
    )
    before = jobs.build_queue(on_file)
    before.enqueue("process_inbound_mail", mail_id)
    assert len(before.huey) == 1
    before.huey.storage.close()  # the process stops with the job still waiting

    after = jobs.build_queue(on_file)
    assert len(after.huey) == 1
    consumer = jobs.start_inline_consumer(after, workers=1)
    assert consumer is not None
    try:
        assert wait_for(lambda: status_of(engine, mail_id), what="the job") == "failed"
    finally:
        consumer.stop(graceful=True)


def test_unknown_backend_names_the_variable(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="KEFU_JOBS_BACKEND='rabbit'"):
        jobs.build_queue(settings.model_copy(update={"jobs_backend": "rabbit"}))


def test_immediate_backend_runs_the_job_at_once(engine: Engine, settings: Settings) -> None:
    mail_id = stored_mail(engine, "no_body.eml")
    jobs.build_queue(settings.model_copy(update={"jobs_backend": "immediate"})).enqueue(
        "process_inbound_mail", mail_id
    )
    assert status_of(engine, mail_id) == "failed"


REDIS = shutil.which("redis-server")


@pytest.mark.skipif(
    REDIS is None, reason="redis-server is not installed (apt install redis-server)"
)
def test_a_job_queued_on_redis_runs_in_a_kefu_worker_process(
    isolated_database: Engine, settings: Settings, tmp_path: Path
) -> None:
    assert REDIS is not None
    port = free_port()
    redis = subprocess.Popen(
        [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    worker = None
    try:
        wait_for(lambda: port_open(port), what="redis")
        mail_id = stored_mail(isolated_database, "gbk_quoted_printable.eml")
        queue = jobs.build_queue(
            settings.model_copy(update={"jobs_backend": "redis", "redis_url": url})
        )
        queue.enqueue("process_inbound_mail", mail_id)
        env = kefu_env(
            isolated_database.url.render_as_string(hide_password=False),
            tmp_path,
            KEFU_JOBS_BACKEND="redis",
            KEFU_REDIS_URL=url,
        )
        worker = start(["worker", "--workers", "1"], env, tmp_path / "worker.log")
        assert (
            wait_for(lambda: status_of(isolated_database, mail_id), seconds=60, what="the worker")
            == "unverified"
        )
    finally:
        if worker is not None:
            stop(worker)
        redis.terminate()
        redis.wait(timeout=10)


def test_one_of_two_schedulers_claims_each_minute(isolated_database: Engine) -> None:
    """The lease behind "each scan once a minute": two processes race for the same slot on
    their own connections; exactly one wins it, and the next minute is free again."""
    minute = datetime(2026, 12, 7, 2, 10, tzinfo=UTC)
    with Session(isolated_database) as one, Session(isolated_database) as other:
        assert jobs.claim_slot(one, "sla_check", minute, by="a:1") is True
        assert jobs.claim_slot(other, "sla_check", minute, by="b:2") is False
        assert jobs.claim_slot(one, "sla_check", minute, by="a:1") is False
        assert jobs.claim_slot(other, "follow_up", minute, by="b:2") is True  # its own row
        later = minute.replace(minute=11)
        assert jobs.claim_slot(other, "sla_check", later, by="b:2") is True
        assert jobs.claim_slot(one, "sla_check", later, by="a:1") is False
        assert jobs.claim_slot(one, "sla_check", minute, by="a:1") is False  # the past
    with Session(isolated_database) as db:
        row = db.get(jobs.JobSchedule, "sla_check")
        assert row is not None and row.last_slot == later and row.claimed_by == "b:2"


def test_a_scheduler_queues_only_the_periodic_jobs_it_claimed(
    isolated_database: Engine, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.orm import sessionmaker

    monkeypatch.setattr(jobs, "get_sessionmaker", lambda: sessionmaker(bind=isolated_database))
    on_file = settings.model_copy(
        update={"jobs_backend": "sqlite", "jobs_sqlite_path": str(tmp_path / "jobs.db")}
    )
    first, second = jobs.build_queue(on_file), jobs.build_queue(on_file)
    at = datetime(2026, 12, 7, 2, 10, 5)  # huey's clock: naive UTC
    queued = {task.name for task in first.huey.read_periodic(at)}
    assert {"sla_check", "survey_sweep", "follow_up"} <= queued
    assert second.huey.read_periodic(at.replace(second=50)) == []  # the same minute
    next_minute = {task.name for task in second.huey.read_periodic(at.replace(minute=11))}
    assert "sla_check" in next_minute and "follow_up" not in next_minute  # every ten minutes
