"""voice: calls, IVR menu and call-backs

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 12:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kefu.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "voice_menu",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tree", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("comment", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_menu")),
        sa.UniqueConstraint("version", name=op.f("uq_voice_menu_version")),
    )
    op.create_table(
        "voice_prompt",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("voice", sa.String(length=24), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_voice_prompt")),
    )
    with op.batch_alter_table("voice_prompt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voice_prompt_last_used_at"), ["last_used_at"], unique=False
        )

    op.create_table(
        "voice_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("caller_masked", sa.String(length=32), nullable=False),
        sa.Column("caller_key", sa.String(length=64), nullable=False),
        sa.Column("dialled", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("identified_by", sa.String(length=16), nullable=True),
        sa.Column("verification_id", sa.Integer(), nullable=True),
        sa.Column("verified_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("menu_version", sa.Integer(), nullable=False),
        sa.Column("node", sa.String(length=40), nullable=False),
        sa.Column("step", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("invalid_count", sa.Integer(), nullable=False),
        sa.Column("silent_count", sa.Integer(), nullable=False),
        sa.Column("path", sa.JSON(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("work_item_id", sa.Integer(), nullable=True),
        sa.Column("queued_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("queue_wait_seconds", sa.Integer(), nullable=True),
        sa.Column("agent_staff_id", sa.Integer(), nullable=True),
        sa.Column("agent_answered_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("case_reference", sa.String(length=40), nullable=True),
        sa.Column("reference_told", sa.String(length=40), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("survey_score", sa.Integer(), nullable=True),
        sa.Column("started_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_request_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_staff_id"],
            ["staff_user.id"],
            name=op.f("fk_voice_call_agent_staff_id_staff_user"),
        ),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_voice_call_case_id_case")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_voice_call_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(
            ["verification_id"],
            ["verification.id"],
            name=op.f("fk_voice_call_verification_id_verification"),
        ),
        sa.ForeignKeyConstraint(
            ["work_item_id"], ["work_item.id"], name=op.f("fk_voice_call_work_item_id_work_item")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_call")),
        sa.UniqueConstraint("call_sid", name=op.f("uq_voice_call_call_sid")),
    )
    with op.batch_alter_table("voice_call", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voice_call_agent_staff_id"), ["agent_staff_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_voice_call_caller_key"), ["caller_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_voice_call_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_voice_call_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            "ix_voice_call_status_started_at", ["status", "started_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_voice_call_work_item_id"), ["work_item_id"], unique=False
        )

    op.create_table(
        "voice_call_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"], ["voice_call.id"], name=op.f("fk_voice_call_event_call_id_voice_call")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_call_event")),
    )
    with op.batch_alter_table("voice_call_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_voice_call_event_call_id"), ["call_id"], unique=False)

    op.create_table(
        "voice_callback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("number_masked", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("work_item_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("done_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"], ["voice_call.id"], name=op.f("fk_voice_callback_call_id_voice_call")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_voice_callback_case_id_case")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_voice_callback_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(
            ["done_by_id"], ["staff_user.id"], name=op.f("fk_voice_callback_done_by_id_staff_user")
        ),
        sa.ForeignKeyConstraint(
            ["work_item_id"],
            ["work_item.id"],
            name=op.f("fk_voice_callback_work_item_id_work_item"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_callback")),
        sa.UniqueConstraint("call_id", name=op.f("uq_voice_callback_call_id")),
    )
    with op.batch_alter_table("voice_callback", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voice_callback_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            "ix_voice_callback_status_requested_at", ["status", "requested_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("voice_callback", schema=None) as batch_op:
        batch_op.drop_index("ix_voice_callback_status_requested_at")
        batch_op.drop_index(batch_op.f("ix_voice_callback_customer_id"))

    op.drop_table("voice_callback")
    with op.batch_alter_table("voice_call_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voice_call_event_call_id"))

    op.drop_table("voice_call_event")
    with op.batch_alter_table("voice_call", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voice_call_work_item_id"))
        batch_op.drop_index("ix_voice_call_status_started_at")
        batch_op.drop_index(batch_op.f("ix_voice_call_customer_id"))
        batch_op.drop_index(batch_op.f("ix_voice_call_case_id"))
        batch_op.drop_index(batch_op.f("ix_voice_call_caller_key"))
        batch_op.drop_index(batch_op.f("ix_voice_call_agent_staff_id"))

    op.drop_table("voice_call")
    with op.batch_alter_table("voice_prompt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voice_prompt_last_used_at"))

    op.drop_table("voice_prompt")
    op.drop_table("voice_menu")
