"""``kefu outbox`` run as a real process against its own SQLite database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from kefu.channels.message import OutgoingMessage
from kefu.channels.outbox import OutboxSender
from kefu.db import make_engine

KEFU = str(Path(sys.executable).with_name("kefu"))


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KEFU, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    env.update(
        KEFU_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}",
        KEFU_ENV="development",
        COLUMNS="200",
    )
    upgraded = run(env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    engine = make_engine(env["KEFU_DATABASE_URL"])
    with Session(engine) as db:
        for to, code in (("+8613800000001", "246810"), ("+8613800000002", "135791")):
            OutboxSender("sms").send(
                db,
                OutgoingMessage(to=to, purpose="otp", body=f"code {code}", secrets=(code,)),
            )
        db.commit()
    engine.dispose()
    return env


def test_outbox_command_refuses_outside_demo_mode(cli_env: dict[str, str]) -> None:
    result = run(cli_env, "outbox")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "kefu: the outbox shows one-time codes; it needs KEFU_DEMO=true"
    ]
    assert "246810" not in result.stdout + result.stderr


def test_outbox_command_lists_latest_messages_in_demo_mode(cli_env: dict[str, str]) -> None:
    demo = {**cli_env, "KEFU_DEMO": "true"}
    everything = run(demo, "outbox", "--limit", "5")
    assert everything.returncode == 0, everything.stderr
    assert "246810" in everything.stdout and "135791" in everything.stdout
    assert "+8613800000001" not in everything.stdout  # destinations are masked
    one = run(demo, "outbox", "--to", "138 0000 0001")
    assert one.returncode == 0
    assert "138****0001" in one.stdout and "135791" not in one.stdout
    bad = run(demo, "outbox", "--to", "nobody")
    assert bad.returncode == 2
