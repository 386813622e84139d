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
    rows = db.scalars(query.limit(limit + 1))            # one more than shown ...
    rows, next_cursor = ORDER.cut(rows, limit)           # ... says whether a next page exists

The console's case views (``kefu.cases.views``) keep their own cursors: their due-time sort
has NULLs, which this module does not handle.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from fastapi import Request, Response
from sqlalchemy import and_, or_
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import ColumnElement, Select

from kefu.errors import InvalidInput

ASC, DESC = False, True
T = TypeVar("T")
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

    def cut(self, rows: Iterable[T], limit: int) -> tuple[list[T], str | None]:
        """The page and the cursor of the next one from ``rows`` read with ``limit + 1``:
        the extra row, not shown, is what tells a next page exists — a last page that is
        exactly full has no link to an empty page after it."""
        return cut(list(rows), limit, self.encode)


def cut(rows: list[T], limit: int, encode: Callable[[T], str]) -> tuple[list[T], str | None]:
    """``Keyset.cut`` for rows that are not instances of the listed model: ``encode`` gives
    the cursor after a row."""
    if len(rows) <= limit:
        return rows, None
    page = rows[:limit]
    return page, encode(page[-1])


NEXT_HEADER = "X-Next-Cursor"
CURSOR_HELP = (
    "Where the page starts: the X-Next-Cursor header of the page before (absent on the "
    "last page). Replaces offset, which is deprecated."
)
OFFSET_HELP = "Deprecated: rows to skip. Use cursor."


def pager_links(request: Request, after: str | None, next_cursor: str | None) -> dict[str, str]:
    """The links of a keyset page for ``_pager.html``: back to the first page (when not on
    it) and on to the next (when there is one); the page's other query parameters kept."""
    links = {}
    if after:
        links["first_url"] = str(request.url.remove_query_params("after"))
    if next_cursor:
        links["next_url"] = str(request.url.include_query_params(after=next_cursor))
    return links


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
