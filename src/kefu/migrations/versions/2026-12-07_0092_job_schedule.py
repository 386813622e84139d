"""job_schedule: the minute each periodic job last ran, claimed by one scheduler

Revision ID: 0092
Revises: 0090
Create Date: 2026-12-07 02:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kefu.db

revision: str = "0092"
down_revision: str | None = "0090"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_schedule",
        sa.Column("job_name", sa.String(length=80), nullable=False),
        sa.Column("last_slot", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("job_name", name=op.f("pk_job_schedule")),
    )


def downgrade() -> None:
    op.drop_table("job_schedule")
