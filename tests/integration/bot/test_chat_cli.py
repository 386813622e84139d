"""``kefu chat`` in a subprocess against a real database: a demo conversation in the
terminal, quick replies by number, bad options."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def kefu(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kefu", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **env, "COLUMNS": "200"},
        timeout=300,
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    path: Path = tmp_path_factory.mktemp("chat-cli") / "kefu.db"
    env = {"KEFU_DATABASE_URL": f"sqlite:///{path}", "KEFU_ENV": "test"}
    assert kefu(env, "db", "upgrade").returncode == 0
    assert kefu(env, "kb", "load").returncode == 0
    return env


def test_a_terminal_conversation(env: dict[str, str]) -> None:
    result = kefu(env, "chat", stdin="怎么绑定银行卡\n1\n/quit\n")
    assert result.returncode == 0, result.stderr
    assert "bind_card" in result.stdout
    assert "conversation" in result.stdout


def test_english_and_resume(env: dict[str, str]) -> None:
    first = kefu(env, "chat", "--lang", "en", stdin="hello\n/quit\n")
    assert first.returncode == 0, first.stderr
    conversation = next(
        line.split()[-1] for line in first.stdout.splitlines() if line.startswith("conversation")
    )
    again = kefu(env, "chat", "--resume", conversation, stdin="thanks, bye\n")
    assert again.returncode == 0, again.stderr
    assert "thanks_goodbye" in again.stdout


def test_bad_options_exit_2(env: dict[str, str]) -> None:
    assert kefu(env, "chat", "--lang", "fr").returncode == 2
    assert kefu(env, "chat", "--resume", "nosuchconversation").returncode == 2
