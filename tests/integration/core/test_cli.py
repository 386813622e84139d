"""The ``kefu`` command run as a customer of the package would: in a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from kefu import __version__


def kefu(*args: str, env: dict[str, str] | None = None, stdin: str | None = None):
    return subprocess.run(
        [sys.executable, "-m", "kefu", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        input=stdin,
        timeout=120,
    )


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    return {"KEFU_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "KEFU_ENV": "test"}


def test_version() -> None:
    result = kefu("--version")
    assert result.returncode == 0
    assert __version__ in result.stdout


def test_unknown_command_is_one_line_and_exit_2() -> None:
    result = kefu("frobnicate")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_bad_option_value_exits_2() -> None:
    result = kefu("serve", "--port", "99999")
    assert result.returncode == 2
    assert "port" in result.stderr.lower()
    assert len(result.stderr.strip().splitlines()) == 1


def test_several_web_processes_need_redis(sqlite_env: dict[str, str]) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("KEFU_REDIS_URL", "KEFU_CHAT_BUS")}
    result = subprocess.run(
        [sys.executable, "-m", "kefu", "serve", "--workers", "2"],
        capture_output=True,
        text=True,
        env={**env, **sqlite_env},
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "kefu: several web processes share live chat through Redis: set KEFU_REDIS_URL"
    ]


def test_bad_setting_exits_2(sqlite_env: dict[str, str]) -> None:
    result = kefu("db", "upgrade", env={**sqlite_env, "KEFU_TIMEZONE": "Mars/Olympus"})
    assert result.returncode == 2
    assert "timezone" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_refuses_placeholder_secret(sqlite_env: dict[str, str]) -> None:
    result = kefu("db", "upgrade", env={**sqlite_env, "KEFU_ENV": "production"})
    assert result.returncode == 2
    assert "KEFU_SECRET_KEY" in result.stderr


def test_production_refuses_a_low_entropy_secret(sqlite_env: dict[str, str]) -> None:
    env = {**sqlite_env, "KEFU_ENV": "production", "KEFU_SECRET_KEY": "a" * 32}
    result = kefu("db", "upgrade", env=env)
    assert result.returncode == 2
    assert "KEFU_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_with_the_mail_port_taken_is_one_line_and_exit_2(
    sqlite_env: dict[str, str],
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**sqlite_env, "KEFU_SMTP_ENABLED": "true", "KEFU_SMTP_PORT": str(port)}
        result = kefu("serve", "--port", "1", env=env)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"127.0.0.1:{port}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_production_serve_refuses_a_database_without_its_migrations(
    sqlite_env: dict[str, str],
) -> None:
    secret = "Vq3xZ8pLm2Rt7Kw9Yb4Nc6Hd1Fg5Js0Ae"
    env = {**sqlite_env, "KEFU_ENV": "production", "KEFU_SECRET_KEY": secret}
    result = kefu("serve", env=env)
    assert result.returncode == 2, result.stderr
    assert "kefu db upgrade" in result.stderr
    assert "Traceback" not in result.stderr


def test_db_upgrade_then_audit_verify(sqlite_env: dict[str, str]) -> None:
    assert kefu("db", "upgrade", env=sqlite_env).returncode == 0
    result = kefu("audit", "verify", env=sqlite_env)
    assert result.returncode == 0, result.stderr
    assert "intact" in result.stdout


def test_unknown_revision_exits_2(sqlite_env: dict[str, str]) -> None:
    result = kefu("db", "upgrade", "nonsense", env=sqlite_env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_staff_create_asks_for_password(sqlite_env: dict[str, str]) -> None:
    assert kefu("db", "upgrade", env=sqlite_env).returncode == 0
    ok = kefu(
        "staff",
        "create",
        "ops",
        "--role",
        "admin",
        env=sqlite_env,
        stdin="a-long-password\na-long-password\n",
    )
    assert ok.returncode == 0, ok.stderr
    bad_role = kefu(
        "staff",
        "create",
        "ops2",
        "--role",
        "root",
        env=sqlite_env,
        stdin="a-long-password\na-long-password\n",
    )
    assert bad_role.returncode == 2
    assert "role" in bad_role.stderr


def test_serve_does_not_compress_websocket_frames(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import uvicorn
    from fastapi import FastAPI
    from typer.testing import CliRunner

    from kefu import app as kefu_app
    from kefu.cli import app
    from kefu.config import get_settings

    for name, value in {
        "KEFU_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "KEFU_JOBS_INLINE": "false",
        "KEFU_DEFERRED_INLINE": "false",
        "KEFU_SMTP_ENABLED": "false",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    served: dict[str, object] = {}
    monkeypatch.setattr(kefu_app, "create_served_app", FastAPI)
    monkeypatch.setattr(uvicorn, "run", lambda application, **options: served.update(options))
    try:
        result = CliRunner().invoke(app, ["serve"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert served["ws_per_message_deflate"] is False
