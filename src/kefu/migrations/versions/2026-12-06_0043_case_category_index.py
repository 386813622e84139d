"""cases: the category index also holds the last update, so a view filtered by category
reads that category's newest cases in order instead of sorting all of them

Revision ID: 0043
Revises: 0060
Create Date: 2026-12-06 23:58:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0043"
down_revision: str | None = "0060"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_case_category", table_name="case")
    op.create_index(
        "ix_case_category_updated_at_id", "case", ["category", "updated_at", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_case_category_updated_at_id", table_name="case")
    op.create_index("ix_case_category", "case", ["category"], unique=False)
