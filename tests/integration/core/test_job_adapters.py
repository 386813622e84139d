"""Jobs use the adapters of their process: ``kefu worker`` builds the message senders once,
at start-up, and the follow-up sweep, the survey sweep, the refund settlement and the mail
sender use that one on every run; a process serving the app hands its own over.

The constructors are wrapped where every build passes (``sms.build_sender`` and
``email.build_sender``), so a job that built its senders again is counted."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from kefu import jobs
from kefu.app import create_app
from kefu.cases import jobs as case_jobs
from kefu.channels import email, sms
from kefu.channels.senders import build_senders
from kefu.config import Settings
from kefu.quality import jobs as quality_jobs
from kefu.support import payout


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    counts: Counter[str] = Counter()

    def counting(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            counts[name] += 1
            return real(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(sms, "build_sender", counting("sms", sms.build_sender))
    monkeypatch.setattr(email, "build_sender", counting("email", email.build_sender))
    monkeypatch.setattr(jobs, "_adapters", {})  # a process that has built nothing yet
    return counts


def run_every_sending_job(queue: jobs.Queue) -> None:
    case_jobs.run_follow_up()
    quality_jobs.run_surveys()
    payout.run_refund_settlement()
    queue.enqueue("send_email", 0)  # no such mail: the job only takes the senders


def test_jobs_build_the_senders_once_per_process(
    built: Counter[str], engine: Engine, settings: Settings
) -> None:
    queue = jobs.build_queue(settings.model_copy(update={"jobs_backend": "immediate"}))
    senders = jobs.adapter(build_senders)  # what kefu worker does at start-up
    assert built == Counter({"sms": 1, "email": 1})

    for _ in range(3):
        run_every_sending_job(queue)

    assert built == Counter({"sms": 1, "email": 1})
    assert jobs.adapter(build_senders) is senders


def test_jobs_beside_the_app_use_the_apps_senders(
    built: Counter[str], engine: Engine, settings: Settings
) -> None:
    application = create_app(settings)
    assert built == Counter({"sms": 1, "email": 1})

    queue = jobs.build_queue(settings.model_copy(update={"jobs_backend": "immediate"}))
    run_every_sending_job(queue)

    assert built == Counter({"sms": 1, "email": 1})
    assert jobs.adapter(build_senders) is application.state.senders


def test_worker_with_a_bad_sender_backend_stops_at_start(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "KEFU_DATABASE_URL": f"sqlite:///{tmp_path / 'worker.db'}",
        "KEFU_ENV": "test",
        "KEFU_JOBS_BACKEND": "sqlite",
        "KEFU_JOBS_SQLITE_PATH": str(tmp_path / "jobs.db"),
        "KEFU_SMS_BACKEND": "pigeon",
    }
    result = subprocess.run(
        [sys.executable, "-m", "kefu", "worker"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 2
    assert "KEFU_SMS_BACKEND='pigeon'" in result.stderr
    assert "Traceback" not in result.stderr
