"""deferred work: the outbox of work a change leaves for after its commit (kefu.deferred)

Revision ID: 0071
Revises: 0040
Create Date: 2026-12-06 23:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kefu.db

revision: str = "0071"
down_revision: str | None = "0040"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deferred_work",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("due_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deferred_work")),
    )
    op.create_index(op.f("ix_deferred_work_due_at"), "deferred_work", ["due_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_deferred_work_due_at"), table_name="deferred_work")
    op.drop_table("deferred_work")
