"""Looking for a secret where it must not be: as a value of its own, not as a run of
characters inside a hash or an id that happens to hold the same digits (an audit hash
holding "0305" is not a leaked answer "0305")."""

from __future__ import annotations

import re

from sqlalchemy import String, select
from sqlalchemy.orm import Session

from kefu.db import Base
from kefu.models import import_all_models


def mentions(text: str, secret: str) -> bool:
    """``secret`` in ``text`` with no letter or digit of the ASCII range right beside it."""
    pattern = rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])"
    return re.search(pattern, text) is not None


def plain_text_columns_holding(db: Session, needle: str) -> list[str]:
    """Every ``table.column`` whose stored text mentions ``needle``."""
    import_all_models()
    found = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, String):
                values = db.scalars(select(column).where(column.contains(needle))).all()
                if any(mentions(value, needle) for value in values):
                    found.append(f"{table.name}.{column.name}")
    return found
