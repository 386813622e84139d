"""Integers a request carries (ids, offsets, sequence numbers): ASCII digits only, within the
range of the column they are compared with. Python's ``int()`` reads '١٢' (Arabic-Indic) as
12 and pydantic reads ' 1_2 ' as 12; an id of 2**70 overflows SQLite's driver and
PostgreSQL's ``integer`` (500 instead of 404). These types make every route refuse such
input with 422 before it reaches a query, and the OpenAPI document states the range."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

INT32_MAX = 2**31 - 1  # every id column is ``integer`` (PostgreSQL's 4 bytes)


def _bounded(low: int, high: int) -> Any:
    def check(value: Any) -> Any:
        if isinstance(value, str):
            if not (value.isascii() and value.isdigit()):
                raise ValueError("only the digits 0-9")
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and not low <= value <= high:
            raise ValueError(f"a number from {low} to {high}")
        return value

    return BeforeValidator(check)


RowId = Annotated[
    int,
    _bounded(1, INT32_MAX),
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": INT32_MAX}),
]
"""The id of a row."""

Count = Annotated[
    int,
    _bounded(0, INT32_MAX),
    WithJsonSchema({"type": "integer", "minimum": 0, "maximum": INT32_MAX}),
]
"""An offset into a list, or a sequence number to read after."""


def parse_ascii_int(text: str, *, low: int = 1, high: int = INT32_MAX) -> int | None:
    """For values read from a form by hand: the number, or None if ``text`` is not ASCII
    digits within [low, high]."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(high)):
        return None
    value = int(text)
    return value if low <= value <= high else None
