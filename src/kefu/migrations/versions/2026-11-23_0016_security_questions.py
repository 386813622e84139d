"""security questions: customers' hashed answers, and the questions a verification asked

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-23 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kefu.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "security_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=24), nullable=False),
        sa.Column("answer_hash", sa.String(length=200), nullable=False),
        sa.Column("set_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_security_answer_customer_id_customer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_answer")),
        sa.UniqueConstraint("customer_id", "question", name=op.f("uq_security_answer_customer_id")),
    )
    with op.batch_alter_table("security_answer", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_security_answer_customer_id"), ["customer_id"], unique=False
        )
    with op.batch_alter_table("verification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("questions", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("round_marks", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("verification", schema=None) as batch_op:
        batch_op.drop_column("round_marks")
        batch_op.drop_column("questions")
    with op.batch_alter_table("security_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_security_answer_customer_id"))
    op.drop_table("security_answer")
