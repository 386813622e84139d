"""Two machines: two ``kefu serve`` instances on their own ports and two ``kefu worker``
processes share one PostgreSQL database and one Redis, started with the ``ExecStart`` lines
and the environment of ``deploy/`` (docs/deploy.md), as systemd would start them.

- a customer on instance A and an agent on instance B chat both ways, in order;
- every scheduled scan (escalation and SLA warnings, follow-up reminders and progress
  messages, auto-close, survey sending) is queued by one scheduler for a minute, never two,
  and its effects happen once;
- an outgoing mail whose relay is down is retried once, and goes out on the retry.
"""

from __future__ import annotations

import itertools
import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.conftest import BACKEND
from tests.factories import make_customer, make_staff
from tests.integration.cases.case_helpers import AGENT, make_case
from tests.integration.chat.conftest import ChatServer
from tests.integration.chat.test_redis_bus import chat_both_ways, run_redis
from tests.integration.email.mail_processes import (
    KEFU,
    free_port,
    port_open,
    stop,
    wait_for,
)
from tests.integration.quality.helpers import resolved_case

from kefu import jobs
from kefu.audit import AuditEvent
from kefu.cases import conversation, service
from kefu.cases.models import Case, CaseNotification
from kefu.cases.transitions import Status
from kefu.channels.email import outgoing
from kefu.channels.email.models import EmailMessage
from kefu.channels.outbox import OutboxMessage
from kefu.chat import bus
from kefu.chat.redis_bus import RedisBus
from kefu.config import Settings
from kefu.db import utcnow
from kefu.identity.models import Customer

DEPLOY = Path(__file__).parents[2] / "deploy"
REDIS = shutil.which("redis-server")
pytestmark = [
    pytest.mark.skipif(
        BACKEND != "postgres",
        reason="several machines share PostgreSQL (SQLite is one file on one machine); "
        "run with KEFU_TEST_DATABASE=postgres",
    ),
    pytest.mark.skipif(
        REDIS is None, reason="redis-server is not installed (apt install redis-server)"
    ),
]
MAIL_RETRY_SECONDS = 3
SLOT_LINE = re.compile(r"periodic jobs for (\d\d:\d\d): (.+) queued here; (.+) claimed elsewhere")


def exec_start(unit: str) -> list[str]:
    """The ``kefu`` arguments of a systemd unit's ExecStart line."""
    text = (DEPLOY / unit).read_text()
    (line,) = [row for row in text.splitlines() if row.startswith("ExecStart=")]
    program, *args = shlex.split(line.removeprefix("ExecStart="))
    assert program.endswith("/kefu"), program
    return args


def with_option(args: list[str], option: str, value: str) -> list[str]:
    at = args.index(option)
    return [*args[: at + 1], value, *args[at + 2 :]]


def deploy_env(**machine: str) -> dict[str, str]:
    """deploy/kefu.env, with this machine's addresses and folders instead of the example's."""
    rows = (DEPLOY / "kefu.env").read_text().splitlines()
    env = dict(row.split("=", 1) for row in rows if row and not row.startswith("#"))
    assert env["KEFU_JOBS_BACKEND"] == "redis" and env["KEFU_JOBS_INLINE"] == "false"
    env.update(machine)
    return env


@pytest.fixture
def redis_url() -> Iterator[str]:
    port = free_port()
    process = run_redis(port)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


class MailSink:
    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:  # noqa: N802
        assert isinstance(envelope.content, bytes)
        self.received.append(envelope.content)
        return "250 OK"


def scan_data(db: Session, settings: Settings) -> dict[str, int]:
    """One case for each scheduled scan, due now (the servers run on the real clock)."""
    now = utcnow()
    owner, _supervisor = make_staff(db, "agent"), make_staff(db, "supervisor")
    at_risk = make_case(db, settings, now=now - timedelta(minutes=50))  # 80 % of 1 h
    service.assign(db, at_risk, owner_username=owner.username, actor=AGENT, now=now)
    waiting = make_case(db, settings, category="transfer_not_arrived", now=now - 26 * HOUR)
    service.assign(db, waiting, owner_username=owner.username, actor=AGENT, now=now - 26 * HOUR)
    conversation.staff_reply(
        db,
        waiting,
        body="已提交银行查询",
        actor=AGENT,
        settings=settings,
        then=Status.PENDING_THIRD_PARTY,
        now=now - 25 * HOUR,
    )
    done = make_case(db, settings, category="login_failed", now=now - timedelta(days=9))
    conversation.resolve(
        db, done, summary="已重置", actor=AGENT, settings=settings, now=now - timedelta(days=8)
    )
    surveyed = make_customer(db)
    resolved_case(db, settings, customer=surveyed, agent=owner, now=now - 2 * HOUR)
    db.commit()
    return {
        "at_risk": at_risk.id,
        "waiting": waiting.id,
        "done": done.id,
        "surveyed": surveyed.id,
    }


HOUR = timedelta(hours=1)


def test_two_instances_and_two_workers_share_postgresql_and_redis(
    isolated_database: Engine, tmp_path: Path, redis_url: str, settings: Settings
) -> None:
    sessions = sessionmaker(bind=isolated_database, expire_on_commit=False)
    database_url = isolated_database.url.render_as_string(hide_password=False)
    relay_port = free_port()

    def machine(name: str, **extra: str) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
        env = deploy_env(
            KEFU_ENV="test",  # production wants a real secret and TLS cookies
            KEFU_DATABASE_URL=database_url,
            KEFU_REDIS_URL=redis_url,
            KEFU_NLU_CACHE_DIR=str(Path("var/cache/nlu").resolve()),
            KEFU_STORAGE_DIR=str(tmp_path / "attachments"),  # shared storage
            KEFU_EMAIL_BACKEND="smtp",
            KEFU_EMAIL_FROM="support@kefu-wallet.com.cn",
            KEFU_SMTP_RELAY_HOST="127.0.0.1",
            KEFU_SMTP_RELAY_PORT=str(relay_port),
            KEFU_MAIL_RETRY_SECONDS=str(MAIL_RETRY_SECONDS),
            KEFU_FOLLOW_UP_EVERY_MINUTES="1",  # every minute, so one test minute sees it
            **extra,
        )
        env.pop("KEFU_SECRET_KEY")  # the test configuration's own
        return {**inherited, **env}

    with sessions() as db:
        ids = scan_data(db, settings)
        mail = outgoing.queue(
            db,
            case_reference="KF-TEST",
            to="customer@example.com",
            subject="您的工单",
            body="已为您处理",
            purpose="case_update",
            settings=settings,
            now=utcnow(),
        )
        db.commit()
        mail_id = mail.id

    processes: list[subprocess.Popen[bytes]] = []
    logs: dict[str, Path] = {}

    def start(name: str, args: list[str], env: dict[str, str]) -> None:
        logs[name] = tmp_path / f"{name}.log"
        handle = logs[name].open("wb")
        processes.append(
            subprocess.Popen([str(KEFU), *args], env=env, stdout=handle, stderr=subprocess.STDOUT)
        )

    web = exec_start("kefu-web.service")
    ports = {name: free_port() for name in ("a", "b")}
    bus.install(RedisBus(redis_url))  # this process's set-up commits join the chat too
    sink = MailSink()
    relay: Controller | None = None
    try:
        for name, port in ports.items():
            args = with_option(with_option(web, "--host", "127.0.0.1"), "--port", str(port))
            start(name, args, machine(name, KEFU_LOG_LEVEL="WARNING"))
        # the workers' schedulers both wake at start: start them in one minute
        if time.time() % 60 > 45:
            time.sleep(61 - time.time() % 60)
        for name in ("worker1", "worker2"):
            start(name, exec_start("kefu-worker.service"), machine(name, KEFU_LOG_LEVEL="INFO"))
        for port in ports.values():
            wait_for(lambda port=port: port_open(port), seconds=180, what="kefu serve")

        def server(port: int) -> ChatServer:
            url = f"127.0.0.1:{port}"
            return ChatServer(f"http://{url}", f"ws://{url}", sessions, settings)

        chat_both_ways(customers=server(ports["a"]), agents=server(ports["b"]))

        # the scans: each worker's scheduler logged its first minute
        def slots() -> dict[str, list[tuple[str, set[str], set[str]]]]:
            found = {}
            for name in ("worker1", "worker2"):
                found[name] = [
                    (m[1], set(m[2].split()) - {"none"}, set(m[3].split()) - {"none"})
                    for m in SLOT_LINE.finditer(logs[name].read_text())
                ]
            return found

        wait_for(lambda: all(slots().values()), seconds=60, what="both schedulers")
        seen = slots()
        by_minute: dict[str, list[set[str]]] = {}
        for rows in seen.values():
            for minute, here, _elsewhere in rows:
                by_minute.setdefault(minute, []).append(here)
        assert any(len(claims) == 2 for claims in by_minute.values()), seen  # same minute
        scans = {"sla_check", "follow_up", "survey_sweep"}
        for minute, claims in by_minute.items():
            for one, other in itertools.combinations(claims, 2):
                assert not one & other, f"{minute}: {claims}"  # never queued twice
            assert scans <= set().union(*claims), f"{minute}: {claims}"

        def effects() -> dict[str, int]:
            with sessions() as db:
                at_risk = db.scalars(
                    select(CaseNotification.recipient).where(
                        CaseNotification.case_id == ids["at_risk"],
                        CaseNotification.kind == "first_response_at_risk",
                    )
                ).all()
                reminders = db.scalar(
                    select(func.count()).where(
                        CaseNotification.case_id == ids["waiting"],
                        CaseNotification.kind == "reminder",
                    )
                )
                progress = db.scalar(
                    select(func.count()).where(
                        CaseNotification.case_id == ids["waiting"],
                        CaseNotification.kind == "progress",
                    )
                )
                done = db.get(Case, ids["done"])
                assert done is not None
                closed = db.scalar(
                    select(func.count()).where(
                        AuditEvent.case_reference == done.reference,
                        AuditEvent.action == "case.status.closed",
                    )
                )
                surveyed = db.get(Customer, ids["surveyed"])
                assert surveyed is not None
                surveys = db.scalar(
                    select(func.count()).where(
                        OutboxMessage.destination == surveyed.phone,
                        OutboxMessage.purpose == "survey",
                    )
                )
            return {
                "warned owner": at_risk.count("owner"),
                "warned supervisor": at_risk.count("supervisor"),
                "reminded": reminders or 0,
                "progress": progress or 0,
                "closed": closed or 0,
                "survey sent": surveys or 0,
            }

        wait_for(lambda: all(effects().values()), seconds=30, what="the scans' effects")
        # the other scheduler's pass is over (its log line is in); let any job it queued run
        time.sleep(2)
        assert effects() == dict.fromkeys(effects(), 1)

        # a failed job is retried once: the relay is down for the first try
        # queued as an instance queues it: the retry delay travels with the job
        on_redis = {
            "jobs_backend": "redis",
            "redis_url": redis_url,
            "mail_retry_seconds": MAIL_RETRY_SECONDS,
        }
        jobs.build_queue(settings.model_copy(update=on_redis)).enqueue("send_email", mail_id)

        def attempts() -> EmailMessage | None:
            with sessions() as db:
                row = db.get(EmailMessage, mail_id)
                return row if row is not None and row.attempts else None

        first = wait_for(attempts, seconds=15, what="the first try")
        assert first.status == "queued" and first.attempts == 1  # waiting for its retry
        relay = Controller(sink, hostname="127.0.0.1", port=relay_port)
        relay.start()
        sent = wait_for(
            lambda: (row := attempts()) is not None and row.status == "sent" and row,
            seconds=MAIL_RETRY_SECONDS + 15,
            what="the retry",
        )
        assert sent.attempts == 2 and len(sink.received) == 1
        with sessions() as db:
            failures = db.scalars(
                select(jobs.JobFailure).where(jobs.JobFailure.job_name.contains("send_email"))
            ).all()
        assert [f.gave_up for f in failures] == [False]
        executions = sum(
            len(re.findall(r"Executing \S*send_email:", logs[name].read_text()))
            for name in ("worker1", "worker2")
        )
        assert executions == 2
    finally:
        for process in processes:
            stop(process)
        if relay is not None:
            relay.stop()
        bus.reset_bus()
    for name, process in zip(logs, processes, strict=True):
        log = logs[name].read_text()
        if name.startswith("worker"):
            assert process.returncode == 0, (name, log[-2000:])  # stops cleanly on SIGTERM
        else:  # uvicorn raises the SIGTERM again once it has shut down cleanly
            assert process.returncode == -15 and "Traceback" not in log, (name, log[-2000:])
