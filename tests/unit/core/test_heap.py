"""A served process's heap once start-up is done (kefu.heap.settle)."""

from __future__ import annotations

import gc
import platform
from collections.abc import Iterator

import pytest

from kefu import heap


class RecordingLibc:
    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    def malloc_trim(self, pad: int) -> int:
        self.calls.append(("malloc_trim", pad))
        return 1


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_collector")
def test_settling_freezes_the_heap_and_returns_free_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    libc = RecordingLibc()
    monkeypatch.setattr(heap, "glibc", lambda: libc)
    heap.settle()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == 50_000
    assert libc.calls == [("malloc_trim", 0)]


@pytest.mark.usefixtures("restored_collector")
def test_settling_without_glibc_only_freezes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "glibc", lambda: None)
    heap.settle()
    assert gc.get_freeze_count() > 0


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")
def test_glibc_has_what_settling_calls() -> None:
    libc = heap.glibc()
    assert libc is not None
    assert libc.malloc_trim(0) in (0, 1)  # 1: memory was given back
