"""cases: the owner index also holds the status, so "mine" and "unassigned" (unfinished
cases of one owner, or of none) and their counts read only those cases

Revision ID: 0041
Revises: 0081
Create Date: 2026-12-06 23:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0041"
down_revision: str | None = "0081"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_case_owner_id_updated_at_id", table_name="case")
    op.create_index(
        "ix_case_owner_id_status_updated_at",
        "case",
        ["owner_id", "status", "updated_at", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_case_owner_id_status_updated_at", table_name="case")
    op.create_index(
        "ix_case_owner_id_updated_at_id", "case", ["owner_id", "updated_at", "id"], unique=False
    )
