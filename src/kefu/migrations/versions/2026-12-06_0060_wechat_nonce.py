"""WeChat request nonces seen within the signature window (replays with another body refused)

Revision ID: 0060
Revises: 0083
Create Date: 2026-12-06 23:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kefu.db

revision: str = "0060"
down_revision: str | None = "0083"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wechat_nonce",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("timestamp", sa.String(length=12), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("seen_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_nonce")),
        sa.UniqueConstraint("timestamp", "nonce", name="uq_wechat_nonce_timestamp_nonce"),
    )
    op.create_index(op.f("ix_wechat_nonce_seen_at"), "wechat_nonce", ["seen_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_wechat_nonce_seen_at"), table_name="wechat_nonce")
    op.drop_table("wechat_nonce")
