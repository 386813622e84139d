"""cases: case, timeline, links, attachments, pauses, notifications, SLA policies

The SLA policies are seeded with defaults per category and priority, written out here so
this migration keeps creating the same rows whatever the code says later (a test compares
them with ``kefu.cases.policies.DEFAULT_TARGETS``).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 09:42:49.048878
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import kefu.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DAY = 24 * 60
# (first response, resolution) in minutes at normal priority, 7x24 clock
_BASE = {
    "account_locked": (15, 120),
    "login_failed": (15, 120),
    "recharge_not_credited": (60, DAY),
    "recharge_failed": (60, 8 * 60),
    "payment_failed": (60, DAY),
    "transfer_not_arrived": (60, 2 * DAY),
    "unauthorized_transaction": (240, 7 * DAY),
    "refund": (240, 5 * DAY),
    "account_stolen": (5, DAY),
    "suspicious_login": (30, 8 * 60),
    "feature_howto": (240, DAY),
    "app_technical": (240, 3 * DAY),
    "promotions": (480, 3 * DAY),
    "complaint": (DAY, 15 * DAY),
    "verify_official": (30, 240),
    "other": (240, 3 * DAY),
}
_FACTOR = {"low": 2.0, "normal": 1.0, "high": 0.5, "urgent": 0.25}


def _seed_rows() -> list[dict[str, object]]:
    now = datetime.now(UTC)
    rows: list[dict[str, object]] = []
    for category, (first, resolution) in _BASE.items():
        for priority, factor in _FACTOR.items():
            resolved_in = max(30, round(resolution * factor))
            if category == "complaint":
                resolved_in = min(resolved_in, 15 * DAY)
            rows.append(
                {
                    "category": category,
                    "priority": priority,
                    "first_response_minutes": max(5, round(first * factor)),
                    "resolution_minutes": resolved_in,
                    "calendar": "24x7",
                    "pause_on_customer": True,
                    "progress_every_hours": 24 if resolved_in >= DAY else None,
                    "updated_at": now,
                    "updated_by": "system",
                }
            )
    return rows


def upgrade() -> None:
    op.create_table(
        "sla_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("first_response_minutes", sa.Integer(), nullable=False),
        sa.Column("resolution_minutes", sa.Integer(), nullable=False),
        sa.Column("calendar", sa.String(length=16), nullable=False),
        sa.Column("pause_on_customer", sa.Boolean(), nullable=False),
        sa.Column("progress_every_hours", sa.Integer(), nullable=True),
        sa.Column("updated_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policy")),
        sa.UniqueConstraint("category", "priority", name=op.f("uq_sla_policy_category")),
    )
    op.create_table(
        "case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("device_model", sa.String(length=80), nullable=True),
        sa.Column("device_os", sa.String(length=80), nullable=True),
        sa.Column("app_version", sa.String(length=40), nullable=True),
        sa.Column("sla_calendar", sa.String(length=16), nullable=False),
        sa.Column("first_response_minutes", sa.Integer(), nullable=False),
        sa.Column("resolution_minutes", sa.Integer(), nullable=False),
        sa.Column("pause_on_customer", sa.Boolean(), nullable=False),
        sa.Column("progress_every_hours", sa.Integer(), nullable=True),
        sa.Column("first_response_due_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("resolution_due_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("committed_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("first_responded_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("first_response_warn_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("resolution_warn_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("first_response_warned_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("resolution_warned_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("first_response_breached_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("resolution_breached_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("escalation_count", sa.Integer(), nullable=False),
        sa.Column("last_customer_update_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_owner_reminder_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_activity_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_case_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["staff_user.id"], name=op.f("fk_case_owner_id_staff_user")
        ),
        sa.ForeignKeyConstraint(["parent_id"], ["case.id"], name=op.f("fk_case_parent_id_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case")),
        sa.UniqueConstraint("reference", name=op.f("uq_case_reference")),
    )
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_channel"), ["channel"], unique=False)
        batch_op.create_index(
            "ix_case_customer_id_created_at", ["customer_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_case_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_status"), ["status"], unique=False)
        batch_op.create_index(
            "ix_case_status_resolution_warn_at", ["status", "resolution_warn_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_case_tier"), ["tier"], unique=False)

    op.create_table(
        "case_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("uploaded_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_case_attachment_case_id_case")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_attachment")),
        sa.UniqueConstraint("public_id", name=op.f("uq_case_attachment_public_id")),
    )
    with op.batch_alter_table("case_attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_attachment_case_id"), ["case_id"], unique=False)

    op.create_table(
        "case_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("actor_role", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("data", sa.Text(), nullable=True),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_case_event_case_id_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_event")),
    )
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.create_index("ix_case_event_case_id_id", ["case_id", "id"], unique=False)

    op.create_table(
        "case_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_case_link_case_id_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_link")),
        sa.UniqueConstraint("case_id", "kind", "external_id", name=op.f("uq_case_link_case_id")),
    )
    with op.batch_alter_table("case_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_link_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_link_external_id"), ["external_id"], unique=False)

    op.create_table(
        "case_notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("recipient", sa.String(length=16), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("outbox_message_id", sa.Integer(), nullable=True),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("read_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_case_notification_case_id_case")
        ),
        sa.ForeignKeyConstraint(
            ["outbox_message_id"],
            ["outbox_message.id"],
            name=op.f("fk_case_notification_outbox_message_id_outbox_message"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_user.id"],
            name=op.f("fk_case_notification_staff_user_id_staff_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_notification")),
    )
    with op.batch_alter_table("case_notification", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_notification_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            "ix_case_notification_staff_user_id_read_at", ["staff_user_id", "read_at"], unique=False
        )

    op.create_table(
        "case_pause",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("started_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_case_pause_case_id_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_pause")),
    )
    with op.batch_alter_table("case_pause", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_pause_case_id"), ["case_id"], unique=False)

    policy = sa.table(
        "sla_policy",
        sa.column("category", sa.String),
        sa.column("priority", sa.String),
        sa.column("first_response_minutes", sa.Integer),
        sa.column("resolution_minutes", sa.Integer),
        sa.column("calendar", sa.String),
        sa.column("pause_on_customer", sa.Boolean),
        sa.column("progress_every_hours", sa.Integer),
        sa.column("updated_at", kefu.db.UtcDateTime()),
        sa.column("updated_by", sa.String),
    )
    op.bulk_insert(policy, _seed_rows())


def downgrade() -> None:
    with op.batch_alter_table("case_pause", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_pause_case_id"))

    op.drop_table("case_pause")
    with op.batch_alter_table("case_notification", schema=None) as batch_op:
        batch_op.drop_index("ix_case_notification_staff_user_id_read_at")
        batch_op.drop_index(batch_op.f("ix_case_notification_case_id"))

    op.drop_table("case_notification")
    with op.batch_alter_table("case_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_link_external_id"))
        batch_op.drop_index(batch_op.f("ix_case_link_case_id"))

    op.drop_table("case_link")
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.drop_index("ix_case_event_case_id_id")

    op.drop_table("case_event")
    with op.batch_alter_table("case_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_attachment_case_id"))

    op.drop_table("case_attachment")
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_tier"))
        batch_op.drop_index("ix_case_status_resolution_warn_at")
        batch_op.drop_index(batch_op.f("ix_case_status"))
        batch_op.drop_index(batch_op.f("ix_case_owner_id"))
        batch_op.drop_index("ix_case_customer_id_created_at")
        batch_op.drop_index(batch_op.f("ix_case_channel"))
        batch_op.drop_index(batch_op.f("ix_case_category"))

    op.drop_table("case")
    op.drop_table("sla_policy")
