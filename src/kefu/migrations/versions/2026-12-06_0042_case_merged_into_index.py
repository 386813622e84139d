"""cases: an index on merged_into_id, so a case page finds the duplicates merged into it
without reading every case

Revision ID: 0042
Revises: 0051
Create Date: 2026-12-06 23:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0042"
down_revision: str | None = "0051"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_case_merged_into_id", "case", ["merged_into_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_case_merged_into_id", table_name="case")
