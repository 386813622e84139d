"""job failures: every job run that raised, for the admin's adapter health

Revision ID: 0080
Revises: 0016
Create Date: 2026-12-06 23:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kefu.db

revision: str = "0080"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_name", sa.String(length=80), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=False),
        sa.Column("gave_up", sa.Boolean(), nullable=False),
        sa.Column("failed_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_failure")),
    )
    with op.batch_alter_table("job_failure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_failure_failed_at"), ["failed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("job_failure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_failure_failed_at"))
    op.drop_table("job_failure")
