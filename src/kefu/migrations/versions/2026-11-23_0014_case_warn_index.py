"""cases: index on (status, first_response_warn_at) for the count of cases at risk

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23 17:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_case_status_first_response_warn_at",
        "case",
        ["status", "first_response_warn_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_case_status_first_response_warn_at", table_name="case")
