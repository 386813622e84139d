import json
import os
import re
import subprocess
import sys
from pathlib import Path


def run(stdin: bytes) -> list[dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "kefu", "nlu", "classify"],
        input=stdin,
        capture_output=True,
        timeout=120,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.decode("utf-8").splitlines()]


def test_one_json_line_per_input_line() -> None:
    lines = run("在吗\n转人工\n充值五百块没到账\nmy account is locked\n".encode())
    assert [line["intent"] for line in lines] == [
        "greeting",
        "human_agent",
        "recharge_not_credited",
        "account_locked",
    ]
    assert lines[2]["text"] == "充值五百块没到账"
    assert all(0 < float(line["confidence"]) <= 1 for line in lines)  # type: ignore[arg-type]


def test_bad_input_still_gets_a_line_each() -> None:
    huge = "充值" * 200_000
    stdin = b"\n" + "😀😀".encode() + b"\n\x00\xff\xfe\x01\n" + huge.encode() + b"\nrefund\n"
    lines = run(stdin)
    assert len(lines) == 5
    assert [line["intent"] for line in lines[:3]] == ["out_of_scope"] * 3
    assert [line["confidence"] for line in lines[:3]] == [0.0] * 3
    assert lines[4]["intent"] == "refund"


def test_train_reports_the_data_and_a_fingerprint(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kefu", "nlu", "train"],
        capture_output=True,
        timeout=300,
        check=True,
        env={**os.environ, "KEFU_NLU_SEMANTIC": "false", "KEFU_NLU_CACHE_DIR": str(tmp_path)},
    )
    counts, trained, stored = done.stdout.decode("utf-8").splitlines()
    assert re.fullmatch(
        r"\d+ phrasings \(\d+ zh, \d+ en\), 30 intents, without the semantic view", counts
    )
    fingerprint = re.fullmatch(r"trained in [\d.]+ s; fingerprint ([0-9a-f]{16})", trained)
    assert fingerprint is not None
    from kefu.bot.nlu.model import get_model, load

    assert fingerprint.group(1) == get_model().fingerprint()  # another process, same model
    [path] = tmp_path.glob("intent-*.npz")
    assert stored == f"stored in {path}"
    loaded = load(path)  # what the next server process loads instead of training
    assert loaded is not None and loaded.fingerprint() == fingerprint.group(1)
