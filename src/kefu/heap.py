"""The heap of a long-running process: Python's collector and, on glibc, malloc's."""

from __future__ import annotations

import ctypes
import gc
import platform


def settle() -> None:
    """Freeze what is alive now (code, catalogues, the assistant's model) out of the
    collector's walks, and collect less often; on glibc, also hand back to the system what
    start-up freed.

    Called once start-up is done: otherwise every full collection walks those objects again
    and stalls open chat sockets and requests for a few hundred milliseconds
    (bench/chat.py, bench/quality.py). Freed memory otherwise stays in malloc's arenas as
    resident memory that holds nothing (loading the model reads 16 MB it drops again).
    Limiting malloc to two arenas (``MALLOC_ARENA_MAX=2``) saved 3 MB more after the
    assistant's bench but nothing under bench/chat.py, whose p99 it took from 40 to
    170-250 ms: not done."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    libc = glibc()
    if libc is not None:
        libc.malloc_trim(0)


def glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (malloc_trim is its own)."""
    if platform.libc_ver()[0] != "glibc":
        return None
    return ctypes.CDLL(None)
