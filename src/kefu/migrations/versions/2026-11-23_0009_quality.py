"""quality: service-quality events, surveys, QA reviews

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 12:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kefu.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quality_rollup",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("grain", sa.String(length=8), nullable=False),
        sa.Column("period_start", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("contacts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("bot_contacts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("contained", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("handed_over", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("offered", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("answered", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_sum", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.Column("abandoned", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("first_replied", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_sum", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.Column("handled", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("handle_sum", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.Column("resolved", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("resolve_sum", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.Column("ever_resolved", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("first_contacts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("fcr", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("escalated", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("transferred", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("reopened", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("sla_total", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("sla_met", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("surveys_sent", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("surveys_answered", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("score_sum", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("satisfied", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("solved_answered", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("solved_yes", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("callbacks_requested", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("callbacks_done", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h00", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h01", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h02", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h03", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h04", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h05", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h06", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h07", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h08", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h09", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h10", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h11", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h12", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h13", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h14", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h15", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h16", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h17", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h18", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h19", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h20", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h21", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h22", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h23", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h24", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h25", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h26", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h27", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h28", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h29", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h30", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h31", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h32", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h33", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h34", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h35", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h36", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h37", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wait_h38", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h00", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h01", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h02", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h03", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h04", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h05", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h06", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h07", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h08", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h09", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h10", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h11", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h12", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h13", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h14", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h15", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h16", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h17", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h18", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h19", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h20", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h21", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h22", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h23", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h24", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h25", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h26", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h27", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h28", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h29", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h30", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h31", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h32", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h33", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h34", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h35", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h36", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h37", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("frt_h38", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_rollup")),
        sa.UniqueConstraint(
            "grain", "channel", "category", "period_start", "staff_id", name="uq_quality_rollup_key"
        ),
    )
    op.create_table(
        "quality_setting",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_quality_setting")),
    )
    op.create_table(
        "survey_opt_out",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_survey_opt_out_customer_id_customer")
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_survey_opt_out")),
    )
    op.create_table(
        "quality_contact",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("case_reference", sa.String(length=20), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("started_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("arrived_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("bot_answered_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("handed_over_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("first_reply_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("first_resolved_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("transfers", sa.Integer(), nullable=False),
        sa.Column("reopens", sa.Integer(), nullable=False),
        sa.Column("actions", sa.Integer(), nullable=False),
        sa.Column("within_sla", sa.Boolean(), nullable=True),
        sa.Column("is_repeat", sa.Boolean(), nullable=False),
        sa.Column("followed_by_repeat", sa.Boolean(), nullable=False),
        sa.Column("survey_sent", sa.Boolean(), nullable=False),
        sa.Column("survey_score", sa.Integer(), nullable=True),
        sa.Column("survey_solved", sa.Boolean(), nullable=True),
        sa.Column("callbacks_requested", sa.Integer(), nullable=False),
        sa.Column("callbacks_done", sa.Integer(), nullable=False),
        sa.Column("handle_seconds", sa.Float(), nullable=False),
        sa.Column("updated_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_quality_contact_case_id_case")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_quality_contact_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_user.id"], name=op.f("fk_quality_contact_staff_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_contact")),
        sa.UniqueConstraint("key", name=op.f("uq_quality_contact_key")),
    )
    with op.batch_alter_table("quality_contact", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_contact_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            "ix_quality_contact_customer_id_started_at", ["customer_id", "started_at"], unique=False
        )
        batch_op.create_index("ix_quality_contact_started_at", ["started_at"], unique=False)

    op.create_table(
        "contact_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("call_sid", sa.String(length=64), nullable=True),
        sa.Column("work_item_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("recorded_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_contact_event_case_id_case")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["quality_contact.id"],
            name=op.f("fk_contact_event_contact_id_quality_contact"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
            name=op.f("fk_contact_event_conversation_id_conversation"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_contact_event_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_user.id"], name=op.f("fk_contact_event_staff_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_event")),
    )
    with op.batch_alter_table("contact_event", schema=None) as batch_op:
        batch_op.create_index("ix_contact_event_at", ["at"], unique=False)
        batch_op.create_index("ix_contact_event_contact_id_at", ["contact_id", "at"], unique=False)

    op.create_table(
        "qa_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("sample_reason", sa.String(length=16), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("comments", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("total", sa.Float(), nullable=True),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("reviewed_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_qa_review_case_id_case")),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["quality_contact.id"],
            name=op.f("fk_qa_review_contact_id_quality_contact"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["staff_user.id"], name=op.f("fk_qa_review_reviewer_id_staff_user")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_user.id"], name=op.f("fk_qa_review_staff_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_review")),
        sa.UniqueConstraint("contact_id", name=op.f("uq_qa_review_contact_id")),
    )
    with op.batch_alter_table("qa_review", schema=None) as batch_op:
        batch_op.create_index("ix_qa_review_staff_id_status", ["staff_id", "status"], unique=False)

    op.create_table(
        "quality_contact_ref",
        sa.Column("ref", sa.String(length=80), nullable=False),
        sa.Column(
            "contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["quality_contact.id"],
            name=op.f("fk_quality_contact_ref_contact_id_quality_contact"),
        ),
        sa.PrimaryKeyConstraint("ref", name=op.f("pk_quality_contact_ref")),
    )
    with op.batch_alter_table("quality_contact_ref", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quality_contact_ref_contact_id"), ["contact_id"], unique=False
        )

    op.create_table(
        "quality_segment",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("queued_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("answered_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("abandoned_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("wait_seconds", sa.Float(), nullable=True),
        sa.Column("wrap_seconds", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["quality_contact.id"],
            name=op.f("fk_quality_segment_contact_id_quality_contact"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_user.id"], name=op.f("fk_quality_segment_staff_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_segment")),
    )
    with op.batch_alter_table("quality_segment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quality_segment_contact_id"), ["contact_id"], unique=False
        )

    op.create_table(
        "quality_survey",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column(
            "contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("call_sid", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("step", sa.String(length=10), nullable=True),
        sa.Column("junk_replies", sa.Integer(), nullable=False),
        sa.Column("due_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("answered_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("answered_via", sa.String(length=8), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("solved", sa.Boolean(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_quality_survey_case_id_case")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["quality_contact.id"],
            name=op.f("fk_quality_survey_contact_id_quality_contact"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
            name=op.f("fk_quality_survey_conversation_id_conversation"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_quality_survey_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_user.id"], name=op.f("fk_quality_survey_staff_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_survey")),
        sa.UniqueConstraint("contact_id", name=op.f("uq_quality_survey_contact_id")),
        sa.UniqueConstraint("token", name=op.f("uq_quality_survey_token")),
    )
    with op.batch_alter_table("quality_survey", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_survey_call_sid"), ["call_sid"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_survey_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_quality_survey_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(
            "ix_quality_survey_customer_id_status", ["customer_id", "status"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_quality_survey_staff_id"), ["staff_id"], unique=False)
        batch_op.create_index("ix_quality_survey_status_due_at", ["status", "due_at"], unique=False)

    op.create_table(
        "quality_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column(
            "contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("survey_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("due_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("done_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["staff_user.id"], name=op.f("fk_quality_task_assignee_id_staff_user")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_quality_task_case_id_case")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["quality_contact.id"],
            name=op.f("fk_quality_task_contact_id_quality_contact"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_user.id"], name=op.f("fk_quality_task_staff_id_staff_user")
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["quality_survey.id"],
            name=op.f("fk_quality_task_survey_id_quality_survey"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_task")),
        sa.UniqueConstraint("survey_id", name=op.f("uq_quality_task_survey_id")),
    )
    with op.batch_alter_table("quality_task", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quality_task_contact_id"), ["contact_id"], unique=False
        )
        batch_op.create_index("ix_quality_task_due_at", ["due_at"], unique=False)
        batch_op.create_index("ix_quality_task_status_due_at", ["status", "due_at"], unique=False)


def downgrade() -> None:
    op.drop_table("quality_task")
    op.drop_table("quality_survey")
    op.drop_table("quality_segment")
    op.drop_table("quality_contact_ref")
    op.drop_table("qa_review")
    op.drop_table("contact_event")
    op.drop_table("quality_contact")
    op.drop_table("survey_opt_out")
    op.drop_table("quality_setting")
    op.drop_table("quality_rollup")
