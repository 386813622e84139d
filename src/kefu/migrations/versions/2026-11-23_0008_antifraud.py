"""antifraud: anti-fraud registry, reports, lookups and outbound calls

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 12:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kefu.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "antifraud_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("value", sa.String(length=300), nullable=False),
        sa.Column("normalised", sa.String(length=300), nullable=False),
        sa.Column("label_zh", sa.String(length=120), nullable=False),
        sa.Column("label_en", sa.String(length=120), nullable=False),
        sa.Column("notes_zh", sa.String(length=500), nullable=False),
        sa.Column("notes_en", sa.String(length=500), nullable=False),
        sa.Column("toll_free", sa.Boolean(), nullable=True),
        sa.Column("cost_zh", sa.String(length=200), nullable=False),
        sa.Column("cost_en", sa.String(length=200), nullable=False),
        sa.Column("hours_zh", sa.String(length=100), nullable=False),
        sa.Column("hours_en", sa.String(length=100), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_antifraud_entry")),
        sa.UniqueConstraint("kind", "normalised", name=op.f("uq_antifraud_entry_kind")),
    )
    op.create_index(
        "ix_antifraud_entry_status_kind", "antifraud_entry", ["status", "kind"], unique=False
    )
    op.create_table(
        "antifraud_lookup_day",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("normalised", sa.String(length=300), nullable=False),
        sa.Column("lookups", sa.Integer(), nullable=False),
        sa.Column("clients", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("updated_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_antifraud_lookup_day")),
        sa.UniqueConstraint("day", "kind", "normalised", name=op.f("uq_antifraud_lookup_day_day")),
    )
    op.create_index(
        "ix_antifraud_lookup_day_normalised_day",
        "antifraud_lookup_day",
        ["normalised", "day"],
        unique=False,
    )
    op.create_table(
        "antifraud_entry_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("edited_by", sa.String(length=120), nullable=False),
        sa.Column("edited_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["antifraud_entry.id"],
            name=op.f("fk_antifraud_entry_version_entry_id_antifraud_entry"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_antifraud_entry_version")),
        sa.UniqueConstraint(
            "entry_id", "version", name=op.f("uq_antifraud_entry_version_entry_id")
        ),
    )
    op.create_table(
        "antifraud_lookup_client",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "lookup_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("client_hash", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["lookup_id"],
            ["antifraud_lookup_day.id"],
            name=op.f("fk_antifraud_lookup_client_lookup_id_antifraud_lookup_day"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_antifraud_lookup_client")),
        sa.UniqueConstraint(
            "lookup_id", "client_hash", name=op.f("uq_antifraud_lookup_client_lookup_id")
        ),
    )
    op.create_table(
        "antifraud_outbound_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=24), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("agent_name", sa.String(length=120), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("case_reference", sa.String(length=20), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("caller_number", sa.String(length=32), nullable=False),
        sa.Column("window_start", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("window_end", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_antifraud_outbound_call_customer_id_customer"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_user.id"],
            name=op.f("fk_antifraud_outbound_call_staff_id_staff_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_antifraud_outbound_call")),
        sa.UniqueConstraint("public_id", name=op.f("uq_antifraud_outbound_call_public_id")),
    )
    op.create_index(
        "ix_antifraud_outbound_call_customer_id_window_end",
        "antifraud_outbound_call",
        ["customer_id", "window_end"],
        unique=False,
    )
    op.create_index(
        op.f("ix_antifraud_outbound_call_staff_id"),
        "antifraud_outbound_call",
        ["staff_id"],
        unique=False,
    )
    op.create_table(
        "antifraud_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("normalised", sa.String(length=300), nullable=False),
        sa.Column("value", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("report_count", sa.Integer(), nullable=False),
        sa.Column("first_reported_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_reported_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.String(length=120), nullable=True),
        sa.Column("reviewed_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["antifraud_entry.id"],
            name=op.f("fk_antifraud_report_entry_id_antifraud_entry"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_antifraud_report")),
        sa.UniqueConstraint("kind", "normalised", name=op.f("uq_antifraud_report_kind")),
    )
    op.create_index(
        "ix_antifraud_report_status_last_reported_at",
        "antifraud_report",
        ["status", "last_reported_at"],
        unique=False,
    )
    op.create_table(
        "antifraud_report_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("client_hash", sa.String(length=64), nullable=True),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_antifraud_report_item_customer_id_customer"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["antifraud_report.id"],
            name=op.f("fk_antifraud_report_item_report_id_antifraud_report"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_antifraud_report_item")),
    )
    op.create_index(
        "ix_antifraud_report_item_report_id_client",
        "antifraud_report_item",
        ["report_id", "client_hash"],
        unique=False,
    )
    op.create_table(
        "antifraud_flag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("case_reference", sa.String(length=20), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("excerpt", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("handled_by", sa.String(length=120), nullable=True),
        sa.Column("handled_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("handling_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
            name=op.f("fk_antifraud_flag_conversation_id_conversation"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_antifraud_flag_customer_id_customer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_antifraud_flag")),
    )
    op.create_index(
        op.f("ix_antifraud_flag_case_reference"), "antifraud_flag", ["case_reference"], unique=False
    )
    op.create_index(
        op.f("ix_antifraud_flag_conversation_id"),
        "antifraud_flag",
        ["conversation_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_antifraud_flag_customer_id"), "antifraud_flag", ["customer_id"], unique=False
    )
    op.create_index(
        "ix_antifraud_flag_status_created_at",
        "antifraud_flag",
        ["status", "created_at"],
        unique=False,
    )
    op.create_table(
        "antifraud_report_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["antifraud_report_item.id"],
            name=op.f("fk_antifraud_report_file_item_id_antifraud_report_item"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_antifraud_report_file")),
        sa.UniqueConstraint("public_id", name=op.f("uq_antifraud_report_file_public_id")),
    )
    op.create_index(
        op.f("ix_antifraud_report_file_item_id"), "antifraud_report_file", ["item_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_antifraud_report_file_item_id"), table_name="antifraud_report_file")
    op.drop_table("antifraud_report_file")
    op.drop_index("ix_antifraud_flag_status_created_at", table_name="antifraud_flag")
    op.drop_index(op.f("ix_antifraud_flag_customer_id"), table_name="antifraud_flag")
    op.drop_index(op.f("ix_antifraud_flag_conversation_id"), table_name="antifraud_flag")
    op.drop_index(op.f("ix_antifraud_flag_case_reference"), table_name="antifraud_flag")
    op.drop_table("antifraud_flag")
    op.drop_index("ix_antifraud_report_item_report_id_client", table_name="antifraud_report_item")
    op.drop_table("antifraud_report_item")
    op.drop_index("ix_antifraud_report_status_last_reported_at", table_name="antifraud_report")
    op.drop_table("antifraud_report")
    op.drop_index(op.f("ix_antifraud_outbound_call_staff_id"), table_name="antifraud_outbound_call")
    op.drop_index(
        "ix_antifraud_outbound_call_customer_id_window_end", table_name="antifraud_outbound_call"
    )
    op.drop_table("antifraud_outbound_call")
    op.drop_table("antifraud_lookup_client")
    op.drop_table("antifraud_entry_version")
    op.drop_index("ix_antifraud_lookup_day_normalised_day", table_name="antifraud_lookup_day")
    op.drop_table("antifraud_lookup_day")
    op.drop_index("ix_antifraud_entry_status_kind", table_name="antifraud_entry")
    op.drop_table("antifraud_entry")
