"""``kefu nlu``: the assistant's language understanding from the command line."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import typer

nlu_app = typer.Typer(help="Intent recognition.", no_args_is_help=True)

BATCH = 256
# A line longer than this is cut before decoding; the classifier reads only the start anyway.
MAX_LINE_BYTES = 16_384


def _lines() -> Iterator[str]:
    stream = sys.stdin.buffer
    while True:
        raw = stream.readline(MAX_LINE_BYTES)
        if not raw:
            return
        if not raw.endswith(b"\n"):
            # The rest of an over-long line belongs to this message, not to new ones.
            while (rest := stream.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                pass
        yield raw.decode("utf-8", errors="replace").rstrip("\r\n")


def _flush(batch: list[str]) -> None:
    # Imported here: the model pulls in scikit-learn, which every other kefu command can skip.
    from kefu.bot.nlu import classify_many

    for text, result in zip(batch, classify_many(batch), strict=True):
        line = {"text": text, "intent": result.intent, "confidence": result.confidence}
        sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
    sys.stdout.flush()


@nlu_app.command("classify")
def classify_command() -> None:
    """Read one message per line on stdin; write one JSON object per line
    {"text", "intent", "confidence"}."""
    batch: list[str] = []
    for line in _lines():
        batch.append(line)
        if len(batch) == BATCH:
            _flush(batch)
            batch = []
    if batch:
        _flush(batch)


@nlu_app.command("train")
def train_command() -> None:
    """Train the intent model from the packaged phrasings and store it where every server
    process loads it from (KEFU_NLU_CACHE_DIR; a process that finds none trains and stores
    it itself), and print the data counts, the training time and the model's fingerprint
    (the same data and settings always give the same fingerprint)."""
    # Imported here, like in _flush: the model pulls in scikit-learn.
    from kefu.bot.nlu.data import load_examples
    from kefu.bot.nlu.model import embedder, store_path, train_and_store
    from kefu.config import get_settings

    examples = load_examples()
    languages = Counter(example.lang for example in examples)
    folder = Path(get_settings().nlu_cache_dir)
    started = time.perf_counter()
    model = train_and_store(examples, folder, embedder=embedder())
    elapsed = time.perf_counter() - started
    view = "with" if get_settings().nlu_semantic else "without"
    typer.echo(
        f"{len(examples)} phrasings ({languages['zh']} zh, {languages['en']} en), "
        f"{len(model.intents)} intents, {view} the semantic view"
    )
    typer.echo(f"trained in {elapsed:.1f} s; fingerprint {model.fingerprint()}")
    typer.echo(f"stored in {store_path(examples, folder, embedder())}")
