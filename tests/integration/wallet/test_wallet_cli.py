"""``kefu demo seed`` and ``kefu wallet check|show`` in a subprocess, on a real database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kefu.wallet.demo import PROBLEMS


def kefu(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kefu", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
    )


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Path]:
    path = tmp_path_factory.mktemp("wallet-cli") / "demo.db"
    env = {"KEFU_DATABASE_URL": f"sqlite:///{path}", "KEFU_ENV": "test"}
    assert kefu(env, "db", "upgrade").returncode == 0
    seed = kefu(env, "demo", "seed", "--customers", "50")
    assert seed.returncode == 0, seed.stderr
    return env, path


def test_demo_has_a_customer_per_problem_and_the_ledger_checks(
    seeded: tuple[dict[str, str], Path],
) -> None:
    env, _ = seeded
    result = kefu(env, "wallet", "check")
    assert result.returncode == 0, result.stderr
    assert "wallet ledger consistent" in result.stdout
    locked = kefu(env, "wallet", "show", "13800000001")
    assert "locked (wrong_passwords)" in locked.stdout
    stuck = kefu(env, "wallet", "show", "13800000002")
    assert "pending" in stuck.stdout
    frozen = kefu(env, "wallet", "show", f"138{len(PROBLEMS) - 1:08d}")
    assert "frozen (stolen)" in frozen.stdout
    missing = kefu(env, "wallet", "show", "13899999999")
    assert missing.returncode == 2
    assert missing.stderr.strip() == "kefu: no such wallet account"


def test_check_exits_1_on_a_breach(seeded: tuple[dict[str, str], Path], tmp_path: Path) -> None:
    _, seeded_path = seeded
    path = tmp_path / "tampered.db"
    with sqlite3.connect(seeded_path) as source, sqlite3.connect(path) as target:
        source.backup(target)
    env = {"KEFU_DATABASE_URL": f"sqlite:///{path}", "KEFU_ENV": "test"}
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE journal_entry SET amount_fen = amount_fen + 1 WHERE id = 1")
    result = kefu(env, "wallet", "check")
    assert result.returncode == 1
    assert "BREACH journal" in result.stderr
    assert "wallet ledger BROKEN" in result.stderr
