"""``kefu antifraud`` in a subprocess on a real database: load the registry from a file,
check values, list channels and figures; bad input is one line and exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kefu.antifraud.registry import DEMO_FILE


def kefu(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kefu", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env, "COLUMNS": "200"},
        timeout=300,
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    path = tmp_path_factory.mktemp("antifraud-cli") / "kefu.db"
    env = {"KEFU_DATABASE_URL": f"sqlite:///{path}", "KEFU_ENV": "test"}
    assert kefu(env, "db", "upgrade").returncode == 0
    return env


def test_load_verify_and_figures(env: dict[str, str]) -> None:
    loaded = kefu(env, "antifraud", "load", str(DEMO_FILE))
    assert loaded.returncode == 0, loaded.stderr
    assert "added: 16" in loaded.stdout
    assert "added: 0, already present: 16" in kefu(env, "antifraud", "load", str(DEMO_FILE)).stdout
    official = kefu(env, "antifraud", "verify", "+86 400-800-9595", "--lang", "en")
    assert official.returncode == 0
    assert "phone: 400 800 9595 → official" in official.stdout
    fake = kefu(env, "antifraud", "verify", "kefu-wallet.com.cn.example.net")
    assert "not_official" in fake.stdout and "仿冒" in fake.stdout
    channels = kefu(env, "antifraud", "channels", "--lang", "en")
    assert "95099" in channels.stdout and "Customer service hotline" in channels.stdout
    figures = kefu(env, "antifraud", "lookups")
    assert "+864008009595" in figures.stdout


def test_bad_input_is_one_line_and_exit_2(env: dict[str, str], tmp_path: Path) -> None:
    script = kefu(env, "antifraud", "verify", "<script>alert(1)</script>")
    assert script.returncode == 2
    assert (
        script.stderr.strip() == "kefu: not a phone number, web address, e-mail address or account"
    )
    assert kefu(env, "antifraud", "verify", "95099", "--lang", "fr").returncode == 2
    missing = kefu(env, "antifraud", "load", str(tmp_path / "none.json"))
    assert missing.returncode == 2 and missing.stderr.startswith("kefu: cannot read")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"kind": "phone", "value": "kefu-wallet.com.cn"}]), encoding="utf-8")
    wrong = kefu(env, "antifraud", "load", str(bad))
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
