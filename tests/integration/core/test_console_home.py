"""The console home per role: an agent's own work with counts, a supervisor's cases at
risk and approvals waiting, an admin's adapter health; never raw permission codes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session
from tests.factories import STAFF_PASSWORD, make_customer, make_staff
from tests.integration.cases.case_helpers import AGENT, make_case

from kefu import health, jobs
from kefu.approvals import service as approvals_service
from kefu.cases import service as cases_service
from kefu.config import Settings
from kefu.db import utcnow

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _sign_in(client: TestClient, username: str) -> None:
    form = client.get("/console/login").text
    token = _CSRF.search(form)
    assert token
    response = client.post(
        "/console/login",
        data={"username": username, "password": STAFF_PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303


def test_an_agent_sees_their_own_open_work_counted(
    client: TestClient, db: Session, settings: Settings
) -> None:
    agent = make_staff(db, "agent")
    long_ago = utcnow() - timedelta(days=30)
    for _ in range(3):
        case = make_case(db, settings, now=long_ago)
        cases_service.assign(db, case, owner_username=agent.username, actor=AGENT)
    make_case(db, settings)  # unassigned, on time
    db.commit()
    _sign_in(client, agent.username)
    page = client.get("/console").text
    assert "我的待办" in page
    mine = re.search(r'href="/console/cases\?view=mine"><span class="figure-count">(\d+)', page)
    assert mine and mine.group(1) == "3"
    late = re.search(
        r'<span class="figure-count">(\d+)</span><span class="figure-label">我的超时工单', page
    )
    assert late and late.group(1) == "3"
    assert "wallet.act" not in page and "chat.work" not in page
    assert "系统与渠道状态" not in page  # health is the admin's
    assert "实时队列" not in page


def test_a_supervisor_sees_cases_at_risk_and_approvals_waiting(
    client: TestClient, db: Session, settings: Settings
) -> None:
    supervisor, agent = make_staff(db, "supervisor"), make_staff(db, "agent")
    late = make_case(db, settings, now=utcnow() - timedelta(days=30))
    customer = make_customer(db)
    approvals_service.submit(
        db,
        key="home-test-1",
        action="unfreeze",
        wallet_account_id=customer.wallet_account_id,
        target_id=customer.wallet_account_id,
        amount=Decimal("0"),
        reason="客户已核实身份",
        requester=agent,
        customer_id=customer.id,
        case_reference=None,
    )
    db.commit()
    _sign_in(client, supervisor.username)
    page = client.get("/console").text
    assert "有超时风险的工单" in page
    assert late.reference in page
    assert "实时队列" in page
    waiting = re.search(r'href="/console/approvals"><span class="figure-count">(\d+)', page)
    assert waiting and int(waiting.group(1)) >= 1
    assert "系统与渠道状态" not in page


def test_an_admin_sees_every_adapter(client: TestClient, db: Session) -> None:
    admin = make_staff(db, "admin")
    db.commit()
    _sign_in(client, admin.username)
    english = client.get("/console?lang=en").text
    for name in (
        "Database",
        "Redis",
        "Background job queue",
        "Mail out (SMTP relay)",
        "Mail in (SMTP / IMAP)",
        "SMS",
        "Phone hotline",
        "WeChat official account",
    ):
        assert name in english, name
    database_row = re.search(r'<tr id="adapter-database">(.*?)</tr>', english, re.S)
    assert database_row and "Working" in database_row.group(1)


def test_a_relay_that_does_not_answer_is_down(db: Session, settings: Settings) -> None:
    from kefu.channels import health as channels_health

    port = _closed_port()
    relay = settings.model_copy(
        update={"email_backend": "smtp", "smtp_relay_host": "127.0.0.1", "smtp_relay_port": port}
    )
    assert channels_health.mail_out(db, relay, now=utcnow()).state == "down"
    assert channels_health.mail_out(db, settings, now=utcnow()).state == "off"


def test_redis_that_does_not_answer_is_down(settings: Settings) -> None:
    dead = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{_closed_port()}/0"})
    assert health.redis(dead, in_use=True).state == "down"
    assert health.redis(dead, in_use=False).state == "off"


@pytest.fixture
def failing_queue(engine: Engine, settings: Settings) -> Iterator[Any]:
    """A task that always raises, on a queue that runs tasks as they are queued."""
    queue = jobs.build_queue(settings.model_copy(update={"jobs_backend": "immediate"}))

    def broken(case_id: int) -> None:
        raise RuntimeError(f"case {case_id} vanished")

    task = queue.huey.task(name="home_test_broken")(broken)
    yield task
    with engine.begin() as connection:
        connection.execute(
            delete(jobs.JobFailure).where(jobs.JobFailure.job_name == "home_test_broken")
        )


def test_a_failed_job_is_recorded_and_counted(
    failing_queue: Any, engine: Engine, settings: Settings
) -> None:
    failing_queue(7)
    with Session(engine) as db:
        failures = [
            f
            for f in jobs.failures_since(db, utcnow() - timedelta(minutes=1))
            if f.job_name == "home_test_broken"
        ]
        assert len(failures) == 1
        assert failures[0].error == "RuntimeError: case 7 vanished"
        assert failures[0].gave_up
        report = health.job_queue(db, settings, now=utcnow())
        assert report.state == "warn"
        assert int(report.facts["failed_24h"]) >= 1


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
