"""routing: agent presence, skills and the work queue

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 12:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kefu.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_profile",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("presence", sa.String(length=8), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("tiers", sa.JSON(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("missed_offers", sa.Integer(), nullable=False),
        sa.Column("presence_changed_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_assigned_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_user.id"], name=op.f("fk_agent_profile_staff_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_agent_profile")),
    )
    op.create_table(
        "work_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("call_sid", sa.String(length=64), nullable=True),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("target_staff_id", sa.Integer(), nullable=True),
        sa.Column("offered_to_id", sa.Integer(), nullable=True),
        sa.Column("offered_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("offer_expires_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("passed_by", sa.JSON(), nullable=False),
        sa.Column("assigned_staff_id", sa.Integer(), nullable=True),
        sa.Column("customer_away_since", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("enqueued_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("assigned_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=40), nullable=True),
        sa.Column("transfers", sa.Integer(), nullable=False),
        sa.Column("updated_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_staff_id"],
            ["staff_user.id"],
            name=op.f("fk_work_item_assigned_staff_id_staff_user"),
        ),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_work_item_case_id_case")),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
            name=op.f("fk_work_item_conversation_id_conversation"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_work_item_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(
            ["offered_to_id"],
            ["staff_user.id"],
            name=op.f("fk_work_item_offered_to_id_staff_user"),
        ),
        sa.ForeignKeyConstraint(
            ["target_staff_id"],
            ["staff_user.id"],
            name=op.f("fk_work_item_target_staff_id_staff_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_item")),
    )
    with op.batch_alter_table("work_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_work_item_assigned_staff_id"), ["assigned_staff_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_work_item_call_sid"), ["call_sid"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_item_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_work_item_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_work_item_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_work_item_offered_to_id"), ["offered_to_id"], unique=False
        )
        batch_op.create_index(
            "ix_work_item_status_finished_at", ["status", "finished_at"], unique=False
        )
        batch_op.create_index(
            "ix_work_item_status_tier_language", ["status", "tier", "language"], unique=False
        )

    op.create_table(
        "work_item_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["work_item.id"], name=op.f("fk_work_item_event_item_id_work_item")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_user.id"], name=op.f("fk_work_item_event_staff_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_item_event")),
    )
    with op.batch_alter_table("work_item_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_item_event_item_id"), ["item_id"], unique=False)

    op.create_table(
        "chat_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
            name=op.f("fk_chat_attachment_conversation_id_conversation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_attachment")),
        sa.UniqueConstraint("public_id", name=op.f("uq_chat_attachment_public_id")),
    )
    with op.batch_alter_table("chat_attachment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chat_attachment_conversation_id"), ["conversation_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("chat_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_attachment_conversation_id"))
    op.drop_table("chat_attachment")
    with op.batch_alter_table("work_item_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_item_event_item_id"))
    op.drop_table("work_item_event")
    with op.batch_alter_table("work_item", schema=None) as batch_op:
        batch_op.drop_index("ix_work_item_status_tier_language")
        batch_op.drop_index("ix_work_item_status_finished_at")
        batch_op.drop_index(batch_op.f("ix_work_item_offered_to_id"))
        batch_op.drop_index(batch_op.f("ix_work_item_customer_id"))
        batch_op.drop_index(batch_op.f("ix_work_item_conversation_id"))
        batch_op.drop_index(batch_op.f("ix_work_item_case_id"))
        batch_op.drop_index(batch_op.f("ix_work_item_call_sid"))
        batch_op.drop_index(batch_op.f("ix_work_item_assigned_staff_id"))
    op.drop_table("work_item")
    op.drop_table("agent_profile")
