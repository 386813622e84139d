"""``kefu nlu``: the assistant's language understanding from the command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

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
