"""The heap of a long-running process: Python's collector and, on glibc, malloc's."""

from __future__ import annotations

import ctypes
import gc
import platform

# mallopt's parameter number (malloc.h)
_M_ARENA_MAX = -8
# malloc arenas a served process keeps (glibc's default is eight per core)
ARENAS = 2


def settle() -> None:
    """Freeze what is alive now (code, catalogues, the assistant's model) out of the
    collector's walks, and collect less often; on glibc, also hand back to the system what
    start-up freed, and keep malloc to ``ARENAS`` arenas from now on.

    Called once start-up is done: otherwise every full collection walks those objects again
    and stalls open chat sockets and requests for a few hundred milliseconds
    (bench/chat.py, bench/quality.py). Freed memory stays in malloc's arenas (loading the
    model reads 16 MB it drops again), and every thread that serves requests gets an arena
    of its own, which each burst of requests leaves partly used: both show as resident
    memory that holds nothing (bench/serve_footprint.py: 227 -> 221 MB)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    libc = glibc()
    if libc is not None:
        libc.malloc_trim(0)
        libc.mallopt(_M_ARENA_MAX, ARENAS)


def glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (malloc_trim and mallopt's arena limit are its own)."""
    if platform.libc_ver()[0] != "glibc":
        return None
    return ctypes.CDLL(None)
