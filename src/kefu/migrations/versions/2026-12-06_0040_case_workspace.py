"""case workspace: merged cases, resolution codes, agents' saved views, and the indexes the
case views page through (newest update, newest case, earliest due, per owner, per status)

Revision ID: 0040
Revises: 0070
Create Date: 2026-12-06 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kefu.db

revision: str = "0040"
down_revision: str | None = "0070"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = {
    "ix_case_updated_at_id": ["updated_at", "id"],
    "ix_case_created_at_id": ["created_at", "id"],
    "ix_case_resolution_due_at_id": ["resolution_due_at", "id"],
    "ix_case_owner_id_updated_at_id": ["owner_id", "updated_at", "id"],
    "ix_case_status_updated_at_id": ["status", "updated_at", "id"],
}


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("resolution_code", sa.String(length=24), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_case_merged_into_id_case"), "case", ["merged_into_id"], ["id"]
        )
        for name, columns in _INDEXES.items():
            batch_op.create_index(name, columns, unique=False)
    op.create_table(
        "case_saved_view",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("query", sa.String(length=1000), nullable=False),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_user.id"],
            name=op.f("fk_case_saved_view_staff_user_id_staff_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_saved_view")),
        sa.UniqueConstraint("staff_user_id", "name", name=op.f("uq_case_saved_view_staff_user_id")),
    )


def downgrade() -> None:
    op.drop_table("case_saved_view")
    with op.batch_alter_table("case", schema=None) as batch_op:
        for name in _INDEXES:
            batch_op.drop_index(name)
        batch_op.drop_constraint(batch_op.f("fk_case_merged_into_id_case"), type_="foreignkey")
        batch_op.drop_column("resolution_code")
        batch_op.drop_column("merged_into_id")
