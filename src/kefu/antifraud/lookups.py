"""How often each value is checked, per local day and by how many people.

A number nobody asked about yesterday and two hundred people ask about today is a scam wave
starting: supervisors see it here before the first loss is reported. Counting is one upsert
per look-up (``INSERT … ON CONFLICT DO UPDATE`` on SQLite and PostgreSQL alike), so
concurrent look-ups of the same value never lose a count.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Date, String, Table, bindparam, case, delete, func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kefu.antifraud.models import LookupClient, LookupDay
from kefu.db import UtcDateTime
from kefu.errors import InvalidInput

# A value is "surging" when today it was checked at least this often, and at least this
# many times its daily average over the days before.
SURGE_MIN_LOOKUPS = 10
SURGE_FACTOR = 3.0
MAX_DAYS = 90


@dataclass(frozen=True)
class _Statements:
    upsert_day: Any
    add_client: Any
    count_client: Any


@lru_cache(maxsize=4)
def _statements(dialect: str) -> _Statements:
    """The three counting statements, built once per dialect with bound parameters: on the
    hot path, building a statement costs more than running it."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    days = cast(Table, LookupDay.__table__)
    clients = cast(Table, LookupClient.__table__)
    values = insert(days).values(
        day=bindparam("day", type_=Date()),
        kind=bindparam("kind", type_=String()),
        normalised=bindparam("normalised", type_=String()),
        lookups=1,
        clients=0,
        verdict=bindparam("verdict", type_=String()),
        updated_at=bindparam("now", type_=UtcDateTime()),
    )
    upsert = values.on_conflict_do_update(
        index_elements=["day", "kind", "normalised"],
        set_={
            "lookups": days.c.lookups + 1,
            "verdict": values.excluded.verdict,
            "updated_at": values.excluded.updated_at,
        },
    ).returning(days.c.id)
    add_client = (
        insert(clients)
        .values(lookup_id=bindparam("lookup_id"), client_hash=bindparam("client_hash"))
        .on_conflict_do_nothing(index_elements=["lookup_id", "client_hash"])
        .returning(clients.c.id)
    )
    count_client = (
        update(days).where(days.c.id == bindparam("lookup_id")).values(clients=days.c.clients + 1)
    )
    return _Statements(upsert, add_client, count_client)


def client_digest(secret: str, client_key: str) -> str:
    return hmac.new(secret.encode(), client_key.encode(), hashlib.sha256).hexdigest()[:32]


def count(
    db: Session,
    *,
    kind: str,
    normalised: str,
    verdict: str,
    day: date,
    now: datetime,
    client_hash: str | None,
) -> None:
    statements = _statements(db.get_bind().dialect.name)
    lookup_id = db.execute(
        statements.upsert_day,
        {"day": day, "kind": kind, "normalised": normalised, "verdict": verdict, "now": now},
    ).scalar_one()
    if client_hash is None:
        return
    seen = db.execute(
        statements.add_client, {"lookup_id": lookup_id, "client_hash": client_hash}
    ).scalar_one_or_none()
    if seen is not None:
        db.execute(statements.count_client, {"lookup_id": lookup_id})


@dataclass(frozen=True)
class LookupTrend:
    kind: str
    value: str
    verdict: str
    total: int
    today: int
    clients_today: int
    previous_daily_average: float
    by_day: dict[date, int] = field(default_factory=dict)

    @property
    def surging(self) -> bool:
        baseline = max(self.previous_daily_average, 1.0)
        return self.today >= SURGE_MIN_LOOKUPS and self.today >= SURGE_FACTOR * baseline


def trends(
    db: Session,
    *,
    today: date,
    days: int = 7,
    kind: str | None = None,
    limit: int = 50,
) -> list[LookupTrend]:
    """The most-checked values of the last ``days`` days (today included), busiest today
    first, with each day's count. Aggregated in the database: a busy week holds millions
    of rows."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"days must be between 1 and {MAX_DAYS}", field="days")
    since = today - timedelta(days=days - 1)
    todays = func.sum(case((LookupDay.day == today, LookupDay.lookups), else_=0))
    todays_clients = func.sum(case((LookupDay.day == today, LookupDay.clients), else_=0))
    total = func.sum(LookupDay.lookups)
    query = (
        select(LookupDay.kind, LookupDay.normalised, total, todays, todays_clients)
        .where(LookupDay.day >= since, LookupDay.day <= today)
        .group_by(LookupDay.kind, LookupDay.normalised)
        .order_by(todays.desc(), total.desc(), LookupDay.normalised)
        .limit(limit)
    )
    if kind:
        query = query.where(LookupDay.kind == kind)
    top = db.execute(query).all()
    if not top:
        return []
    detail = db.scalars(
        select(LookupDay).where(
            LookupDay.day >= since,
            LookupDay.day <= today,
            tuple_(LookupDay.kind, LookupDay.normalised).in_([(r[0], r[1]) for r in top]),
        )
    )
    per_value: dict[tuple[str, str], list[LookupDay]] = defaultdict(list)
    for row in detail:
        per_value[(row.kind, row.normalised)].append(row)
    found: list[LookupTrend] = []
    for row_kind, value, row_total, row_today, row_clients in top:
        day_rows = sorted(per_value[(row_kind, value)], key=lambda r: r.day)
        earlier = sum(r.lookups for r in day_rows if r.day < today)
        found.append(
            LookupTrend(
                kind=row_kind,
                value=value,
                verdict=day_rows[-1].verdict if day_rows else "",
                total=int(row_total or 0),
                today=int(row_today or 0),
                clients_today=int(row_clients or 0),
                previous_daily_average=earlier / (days - 1) if days > 1 else 0.0,
                by_day={r.day: r.lookups for r in day_rows},
            )
        )
    found.sort(key=lambda t: t.surging, reverse=True)  # stable: keeps the busiest-first order
    return found


def prune(db: Session, *, before: date) -> int:
    """Forget counts older than ``before`` (and who counted for them)."""
    old = select(LookupDay.id).where(LookupDay.day < before)
    db.execute(delete(LookupClient).where(LookupClient.lookup_id.in_(old)))
    result = db.execute(delete(LookupDay).where(LookupDay.day < before))
    return int(getattr(result, "rowcount", 0) or 0)
