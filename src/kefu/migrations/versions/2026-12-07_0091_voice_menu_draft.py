"""the phone menu's draft and the simulated calls that try it

Revision ID: 0091
Revises: 0084
Create Date: 2026-12-07 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kefu.db

revision: str = "0091"
down_revision: str | None = "0084"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "voice_menu_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tree", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("based_on", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.Column("updated_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_menu_draft")),
    )
    op.create_table(
        "voice_menu_trial",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("tree", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("started_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_menu_trial")),
        sa.UniqueConstraint("call_sid", name=op.f("uq_voice_menu_trial_call_sid")),
    )
    op.create_index(
        op.f("ix_voice_menu_trial_created_at"), "voice_menu_trial", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_voice_menu_trial_created_at"), table_name="voice_menu_trial")
    op.drop_table("voice_menu_trial")
    op.drop_table("voice_menu_draft")
