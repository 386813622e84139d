"""wechat: the official account's followers and the customer-service messages waiting for them

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-23 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kefu.db

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wechat_follower",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("subscribed", sa.Boolean(), nullable=False),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
            name=op.f("fk_wechat_follower_conversation_id_conversation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_follower")),
        sa.UniqueConstraint("openid", name=op.f("uq_wechat_follower_openid")),
    )
    with op.batch_alter_table("wechat_follower", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wechat_follower_conversation_id"), ["conversation_id"], unique=False
        )

    op.create_table(
        "wechat_outgoing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("follower_id", sa.Integer(), nullable=False),
        sa.Column("chat_message_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["chat_message_id"],
            ["chat_message.id"],
            name=op.f("fk_wechat_outgoing_chat_message_id_chat_message"),
        ),
        sa.ForeignKeyConstraint(
            ["follower_id"],
            ["wechat_follower.id"],
            name=op.f("fk_wechat_outgoing_follower_id_wechat_follower"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_outgoing")),
        sa.UniqueConstraint("chat_message_id", name=op.f("uq_wechat_outgoing_chat_message_id")),
    )
    with op.batch_alter_table("wechat_outgoing", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wechat_outgoing_follower_id"), ["follower_id"], unique=False
        )
        batch_op.create_index(
            "ix_wechat_outgoing_status_updated_at", ["status", "updated_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("wechat_outgoing", schema=None) as batch_op:
        batch_op.drop_index("ix_wechat_outgoing_status_updated_at")
        batch_op.drop_index(batch_op.f("ix_wechat_outgoing_follower_id"))
    op.drop_table("wechat_outgoing")
    with op.batch_alter_table("wechat_follower", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wechat_follower_conversation_id"))
    op.drop_table("wechat_follower")
