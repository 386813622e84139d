"""The SQL statements a block sends, for tests that hold a change to its statements."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, event


@contextmanager
def statements_sent(bind: Connection | Engine) -> Iterator[list[str]]:
    """Every statement ``bind`` sends inside the block, whitespace folded, as it is sent."""
    sent: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        sent.append(" ".join(statement.split()))

    event.listen(bind, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        event.remove(bind, "before_cursor_execute", seen)
