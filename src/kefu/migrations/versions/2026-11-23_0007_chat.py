"""chat: conversations and their numbered messages

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 12:11:23.224958
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kefu.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("intent", sa.String(length=40), nullable=True),
        sa.Column("bot_state", sa.JSON(), nullable=False),
        sa.Column("verification_id", sa.Integer(), nullable=True),
        sa.Column("verified_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("assigned_staff_id", sa.Integer(), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("scam_flagged", sa.Boolean(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("handed_over_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["assigned_staff_id"],
            ["staff_user.id"],
            name=op.f("fk_conversation_assigned_staff_id_staff_user"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_conversation_case_id_case")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_conversation_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(
            ["verification_id"],
            ["verification.id"],
            name=op.f("fk_conversation_verification_id_verification"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation")),
        sa.UniqueConstraint("public_id", name=op.f("uq_conversation_public_id")),
    )
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversation_assigned_staff_id"), ["assigned_staff_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_conversation_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_conversation_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            "ix_conversation_status_updated_at", ["status", "updated_at"], unique=False
        )

    op.create_table(
        "chat_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=12), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("client_msg_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
            name=op.f("fk_chat_message_conversation_id_conversation"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_user.id"], name=op.f("fk_chat_message_staff_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_message")),
        sa.UniqueConstraint(
            "conversation_id", "client_msg_id", name="uq_chat_message_client_msg_id"
        ),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_chat_message_seq"),
    )


def downgrade() -> None:
    op.drop_table("chat_message")
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_status_updated_at")
        batch_op.drop_index(batch_op.f("ix_conversation_customer_id"))
        batch_op.drop_index(batch_op.f("ix_conversation_case_id"))
        batch_op.drop_index(batch_op.f("ix_conversation_assigned_staff_id"))

    op.drop_table("conversation")
