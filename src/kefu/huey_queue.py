"""The huey classes behind ``kefu.jobs``, imported when a process builds its queue.

huey's storage module imports redis and psycopg (and redis imports cryptography) whether
or not a queue uses them: ~18 MB that a web process which has queued nothing (one that
only answers the assistant, say) need not hold.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from huey import Huey
from huey.consumer import Consumer

# the periodic tasks due in a minute -> those this process may queue
Claim = Callable[[list[Any], datetime], list[Any]]


class KefuHuey(Huey):  # type: ignore[misc]  # huey ships no type hints
    """Huey whose scheduler queues a periodic job only after ``claim`` gave it its minute."""

    def __init__(self, name: str, *, claim: Claim, **options: Any) -> None:
        super().__init__(name, **options)
        self._claim = claim

    def read_periodic(self, timestamp: datetime | None) -> list[Any]:
        if timestamp is None:
            timestamp = self._get_timestamp()
        due = super().read_periodic(timestamp)
        if not due:
            return []
        # huey's clock is naive UTC (utc=True); the slot is its minute
        return self._claim(due, timestamp.replace(second=0, microsecond=0, tzinfo=UTC))


class QuietConsumer(Consumer):  # type: ignore[misc]  # huey ships no type hints
    """A consumer for a thread inside another server: the server owns the signals."""

    def _set_signal_handlers(self) -> None:
        return None
