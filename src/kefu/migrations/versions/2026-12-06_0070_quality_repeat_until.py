"""quality: repeat_until on contacts and indexes, so the repeat marks of a new contact are
found without reading the customer's whole history

Revision ID: 0070
Revises: 0080
Create Date: 2026-12-06 23:00:00
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0070"
down_revision: str | None = "0080"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# kept in step with kefu.quality.metrics.REPEAT_WINDOW at the time of writing
_WINDOW_DAYS = 7


def upgrade() -> None:
    with op.batch_alter_table("quality_contact") as batch:
        batch.add_column(sa.Column("repeat_until", sa.DateTime(timezone=True), nullable=True))
    contact = sa.table(
        "quality_contact",
        sa.column("id", sa.Integer),
        sa.column("started_at", sa.DateTime(timezone=True)),
        sa.column("first_resolved_at", sa.DateTime(timezone=True)),
        sa.column("repeat_until", sa.DateTime(timezone=True)),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(contact.c.id, contact.c.started_at, contact.c.first_resolved_at)
    ).all()
    window = timedelta(days=_WINDOW_DAYS)
    values = [
        {"row_id": row.id, "until": _as_datetime(row.first_resolved_at or row.started_at) + window}
        for row in rows
    ]
    if values:
        connection.execute(
            contact.update()
            .where(contact.c.id == sa.bindparam("row_id"))
            .values(repeat_until=sa.bindparam("until")),
            values,
        )
    op.create_index(
        "ix_quality_contact_customer_id_followed_by_repeat",
        "quality_contact",
        ["customer_id", "followed_by_repeat", "repeat_until"],
    )
    op.create_index(
        "ix_quality_contact_customer_id_is_repeat",
        "quality_contact",
        ["customer_id", "is_repeat", "started_at"],
    )


def _as_datetime(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def downgrade() -> None:
    op.drop_index("ix_quality_contact_customer_id_is_repeat", table_name="quality_contact")
    op.drop_index("ix_quality_contact_customer_id_followed_by_repeat", table_name="quality_contact")
    with op.batch_alter_table("quality_contact") as batch:
        batch.drop_column("repeat_until")
