"""four eyes counted per payment and per customer per day; rejected requests found by payment

Revision ID: 0030
Revises: 0043
Create Date: 2026-12-06 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kefu.db

revision: str = "0030"
down_revision: str | None = "0043"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sole_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("wallet_account_id", sa.String(length=40), nullable=False),
        sa.Column("payment_id", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("actor_role", sa.String(length=24), nullable=False),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sole_decision")),
        sa.UniqueConstraint("key", name=op.f("uq_sole_decision_key")),
    )
    with op.batch_alter_table("sole_decision", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sole_decision_account_day", ["wallet_account_id", "business_day"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sole_decision_payment_id"), ["payment_id"], unique=False
        )
    op.create_table(
        "four_eyes_lock",
        sa.Column("wallet_account_id", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("wallet_account_id", name=op.f("pk_four_eyes_lock")),
    )
    with op.batch_alter_table("approval_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payment_id", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_approval_request_payment_id"), ["payment_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("approval_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approval_request_payment_id"))
        batch_op.drop_column("payment_id")
    op.drop_table("four_eyes_lock")
    with op.batch_alter_table("sole_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sole_decision_payment_id"))
        batch_op.drop_index("ix_sole_decision_account_day")
    op.drop_table("sole_decision")
