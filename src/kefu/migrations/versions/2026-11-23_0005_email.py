"""email: inbound mail kept raw until processed, and the Message-ID index of case threads

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:03:21.073109
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kefu.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbound_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("message_id", sa.String(length=250), nullable=True),
        sa.Column("from_address", sa.String(length=254), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("case_reference", sa.String(length=20), nullable=True),
        sa.Column("received_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("processed_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_mail")),
    )
    with op.batch_alter_table("inbound_mail", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inbound_mail_case_reference"), ["case_reference"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_inbound_mail_message_id"), ["message_id"], unique=False
        )
        batch_op.create_index(
            "ix_inbound_mail_status_received_at", ["status", "received_at"], unique=False
        )

    op.create_table(
        "email_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_reference", sa.String(length=20), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("message_id", sa.String(length=250), nullable=False),
        sa.Column("in_reply_to", sa.String(length=250), nullable=True),
        sa.Column("references", sa.Text(), nullable=True),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("inbound_mail_id", sa.Integer(), nullable=True),
        sa.Column("outbox_message_id", sa.Integer(), nullable=True),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["inbound_mail_id"],
            ["inbound_mail.id"],
            name=op.f("fk_email_message_inbound_mail_id_inbound_mail"),
        ),
        sa.ForeignKeyConstraint(
            ["outbox_message_id"],
            ["outbox_message.id"],
            name=op.f("fk_email_message_outbox_message_id_outbox_message"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_message")),
        sa.UniqueConstraint("message_id", name=op.f("uq_email_message_message_id")),
    )
    with op.batch_alter_table("email_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_email_message_case_reference"), ["case_reference"], unique=False
        )
        batch_op.create_index(
            "ix_email_message_status_updated_at", ["status", "updated_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("email_message", schema=None) as batch_op:
        batch_op.drop_index("ix_email_message_status_updated_at")
        batch_op.drop_index(batch_op.f("ix_email_message_case_reference"))

    op.drop_table("email_message")
    with op.batch_alter_table("inbound_mail", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_mail_status_received_at")
        batch_op.drop_index(batch_op.f("ix_inbound_mail_message_id"))
        batch_op.drop_index(batch_op.f("ix_inbound_mail_case_reference"))

    op.drop_table("inbound_mail")
