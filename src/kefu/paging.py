"""Keyset pages: a list continues after the last row it showed, not after N skipped rows.

``OFFSET n`` makes the database read and throw away n rows, so page 500 of a long list is
slow, and a row added while someone pages shifts every later page (a row shown twice, or
one never shown). A cursor holds the sort key of the last row shown; the next page is the
rows after it in the list's order, read from the index like the first page.

A list declares its order once as a ``Keyset`` (columns, each ascending or descending,
ending with a unique one, usually the id; no column may be NULL) and uses it for both the
``ORDER BY`` and the condition::

    ORDER = Keyset((Case.created_at, DESC), (Case.id, DESC))
    query = ORDER.page(select(Case), after=cursor)      # order, and the rows after cursor
    next_cursor = ORDER.cursor_after(rows, limit)        # None on the last page

The console's case views (``kefu.cases.views``) keep their own cursors: their due-time sort
has NULLs, which this module does not handle.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from fastapi import Request, Response
from sqlalchemy import and_, or_
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import ColumnElement, Select

from kefu.errors import InvalidInput

ASC, DESC = False, True
Value = datetime | int | str


class Keyset:
    def __init__(self, *columns: tuple[InstrumentedAttribute[Any], bool]) -> None:
        self.columns = columns

    def order_by(self) -> list[Any]:
        return [column.desc() if desc else column.asc() for column, desc in self.columns]

    def encode(self, row: Any) -> str:
        """The cursor after ``row``, an instance of the listed model."""
        return self.encode_values([getattr(row, column.key) for column, _desc in self.columns])

    def encode_values(self, values: Sequence[Value]) -> str:
        """The cursor after the row whose key (in the order's columns) is ``values``."""
        tagged = [_tag(value) for value in values]
        text = json.dumps(tagged, separators=(",", ":"), ensure_ascii=False)
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    def decode(self, cursor: str, *, field: str = "cursor") -> list[Value]:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            values = json.loads(base64.urlsafe_b64decode(padded).decode())
            if not isinstance(values, list) or len(values) != len(self.columns):
                raise ValueError("not this list's key")
            decoded = [_untag(value) for value in values]
            for value, (column, _desc) in zip(decoded, self.columns, strict=True):
                if not isinstance(value, column.type.python_type):
                    raise ValueError("not this list's key")
            return decoded
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            raise InvalidInput("not a page cursor of this list", field=field) from None

    def after(self, values: Sequence[Value]) -> ColumnElement[bool]:
        """Rows after ``values`` in this order: (a > x) or (a = x and b > y) or ..."""
        terms = []
        for n, (column, desc) in enumerate(self.columns):
            equal = [self.columns[i][0] == values[i] for i in range(n)]
            beyond = column < values[n] if desc else column > values[n]
            terms.append(and_(*equal, beyond))
        return or_(*terms)

    def page(self, query: Select[Any], *, after: str | None, field: str = "cursor") -> Select[Any]:
        if after:
            query = query.where(self.after(self.decode(after, field=field)))
        return query.order_by(*self.order_by())

    def cursor_after(self, rows: Sequence[Any], limit: int) -> str | None:
        """The cursor of the next page, or None when ``rows`` (a page of at most ``limit``)
        reached the end of the list."""
        return self.encode(rows[-1]) if rows and len(rows) >= limit else None


NEXT_HEADER = "X-Next-Cursor"
CURSOR_HELP = (
    "Where the page starts: the X-Next-Cursor header of the page before (absent on the "
    "last page). Replaces offset, which is deprecated."
)
OFFSET_HELP = "Deprecated: rows to skip. Use cursor."


def announce_next(request: Request, response: Response, cursor: str | None) -> None:
    """Tell an API client where the next page starts: ``X-Next-Cursor`` and an RFC 8288
    ``Link: <...>; rel="next"`` with the same query and the cursor, nothing on the last
    page."""
    if cursor is None:
        return
    response.headers[NEXT_HEADER] = cursor
    following = request.url.remove_query_params(["cursor", "offset"])
    response.headers["Link"] = f'<{following.include_query_params(cursor=cursor)}>; rel="next"'


def _tag(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, int | str):
        return value
    raise TypeError(f"a keyset column holds {type(value).__name__}")


def _untag(value: Any) -> Value:
    if isinstance(value, dict) and set(value) == {"t"} and isinstance(value["t"], str):
        moment = datetime.fromisoformat(value["t"])
        if moment.tzinfo is None:  # every stored time is UTC, and says so
            raise ValueError("a time without its zone")
        return moment
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("not a key value")
    return value
