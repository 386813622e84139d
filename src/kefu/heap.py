"""The Python heap of a long-running process."""

from __future__ import annotations

import gc


def settle() -> None:
    """Freeze what is alive now (code, catalogues, the assistant's model) out of the
    collector's walks, and collect less often.

    Called once start-up is done: otherwise every full collection walks those objects again
    and stalls open chat sockets and requests for a few hundred milliseconds
    (bench/chat.py, bench/quality.py)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
