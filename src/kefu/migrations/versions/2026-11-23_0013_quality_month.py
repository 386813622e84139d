"""quality: monthly rows per agent, summed from the daily rows already kept

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 16:45:00
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from kefu.config import get_settings

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = ("grain", "period_start", "channel", "category", "staff_id")


def _aware(value: Any) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)  # SQLite without the model's type gives ISO text
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def upgrade() -> None:
    bind = op.get_bind()
    # the table as it is now, not as the code describes it later
    table = sa.Table("quality_rollup", sa.MetaData(), autoload_with=bind)
    counters = [c.name for c in table.columns if c.name not in (*_KEY, "id")]
    tz = get_settings().tz
    sums: dict[tuple[Any, ...], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    rows = bind.execute(
        sa.select(*(table.c[name] for name in (*_KEY[1:], *counters))).where(
            table.c.grain == "agent"
        )
    )
    for row in rows:
        local = _aware(row[0]).astimezone(tz)
        month = datetime(local.year, local.month, 1, tzinfo=tz).astimezone(UTC)
        target = sums[(month, row[1], row[2], row[3])]
        for name, value in zip(counters, row[4:], strict=True):
            if value:
                target[name] += value
    bind.execute(sa.delete(table).where(table.c.grain == "month"))
    batch: list[dict[str, Any]] = []
    for (month, channel, category, staff_id), values in sums.items():
        batch.append(
            {
                "grain": "month",
                "period_start": month,
                "channel": channel,
                "category": category,
                "staff_id": staff_id,
                **{name: values.get(name, 0) for name in counters},
            }
        )
        if len(batch) == 1000:
            bind.execute(sa.insert(table), batch)
            batch = []
    if batch:
        bind.execute(sa.insert(table), batch)


def downgrade() -> None:
    op.execute("DELETE FROM quality_rollup WHERE grain = 'month'")
