"""What a web process holds: libraries that only some requests need (a queued job, Redis,
WeChat, two-factor sign-in, a look-alike name, training the model) are imported by the
first such request, not at start-up, so a process answering the common kind of request
does not carry their memory (docs/performance.md, bench/serve_footprint.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# top-level packages, each with what would load it
LOADED_ON_DEMAND = (
    "huey",  # the job queue: the first job queued, or the consumer of `kefu serve`
    "psycopg",  # through huey's storage module, when the database is SQLite
    "redis",  # the Redis chat bus or job queue, when configured
    "cryptography",  # two-factor secrets, Telnyx signatures, WeChat's safe mode
    "wechatpy",  # the official account, when connected
    "requests",  # wechatpy's client
    "confusable_homoglyphs",  # the first look-alike name compared
    "sklearn",  # training the assistant's model
    "scipy",
)

BUILD_THE_APP = """
import sys
import kefu.cli
from kefu.app import create_app
create_app()
print(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_a_web_process_starts_without_what_only_some_requests_need(tmp_path: Path) -> None:
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("KEFU_REDIS_URL", "KEFU_CHAT_BUS", "KEFU_JOBS_BACKEND")
    }
    done = subprocess.run(
        [sys.executable, "-c", BUILD_THE_APP],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={
            **environment,
            "KEFU_DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}",
            "KEFU_ENV": "test",
        },
    )
    loaded = set(done.stdout.split())
    assert "fastapi" in loaded and "kefu" in loaded  # the app was built
    assert loaded.isdisjoint(LOADED_ON_DEMAND), sorted(loaded & set(LOADED_ON_DEMAND))
