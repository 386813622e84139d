"""``kefu report`` in a subprocess, against its own migrated SQLite database."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session
from tests.integration.quality.history import build

from kefu import migrate
from kefu.db import make_engine


def kefu(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kefu", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('report') / 'report.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with Session(engine) as db:
        build(db)
        db.commit()
    engine.dispose()
    yield {"KEFU_DATABASE_URL": url, "KEFU_ENV": "test"}


def test_json_report_gives_the_dashboards_figures(env: dict[str, str]) -> None:
    result = kefu(env, "report", "--from", "2026-03-02", "--to", "2026-03-02", "--format", "json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["total"]["contacts"] == 6
    assert body["total"]["service_level"] == pytest.approx(0.6)
    assert [row["key"] for row in body["rows"]] == ["2026-03-02"]


def test_csv_report_by_channel(env: dict[str, str]) -> None:
    result = kefu(
        env,
        "report",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-04",
        "--by",
        "channel",
        "--format",
        "csv",
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {row["channel"]: row["contacts"] for row in rows} == {
        "app": "1",
        "phone": "3",
        "web": "3",
        "total": "7",
    }


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--from", "2026-03-05", "--to", "2026-03-01"], "before the start"),
        (["--from", "2020-01-01", "--to", "2026-03-01"], "at most 366 days"),
        (["--from", "3/1/2026", "--to", "2026-03-01"], "date like"),
        (["--from", "2026-03-01", "--to", "2026-03-02", "--format", "xml"], "csv or json"),
        (["--from", "2026-03-01", "--to", "2026-03-02", "--agent", "nobody"], "nobody"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(env: dict[str, str], args: list[str], words: str) -> None:
    result = kefu(env, "report", *args)
    assert result.returncode == 2
    assert words in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
