"""staff notifications: stored per staff member, read or unread

Revision ID: 0051
Revises: 0050
Create Date: 2026-12-06 23:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kefu.db

revision: str = "0051"
down_revision: str | None = "0050"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=200), nullable=True),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("read_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_user.id"], name=op.f("fk_staff_notification_staff_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_notification")),
    )
    with op.batch_alter_table("staff_notification", schema=None) as batch_op:
        batch_op.create_index("ix_staff_notification_staff_id_id", ["staff_id", "id"], unique=False)
        batch_op.create_index(
            "ix_staff_notification_staff_id_read_at", ["staff_id", "read_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_notification", schema=None) as batch_op:
        batch_op.drop_index("ix_staff_notification_staff_id_read_at")
        batch_op.drop_index("ix_staff_notification_staff_id_id")
    op.drop_table("staff_notification")
