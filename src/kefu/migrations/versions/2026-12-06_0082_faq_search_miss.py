"""help-center searches that found nothing or only poor answers, counted per query

Revision ID: 0082
Revises: 0041
Create Date: 2026-12-07 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kefu.db

revision: str = "0082"
down_revision: str | None = "0041"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "faq_search_miss",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("query", sa.String(length=100), nullable=False),
        sa.Column("searches", sa.Integer(), nullable=False),
        sa.Column("nothing_found", sa.Integer(), nullable=False),
        sa.Column("first_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("answered_by", sa.String(length=60), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_search_miss")),
        sa.UniqueConstraint("lang", "query", name=op.f("uq_faq_search_miss_lang")),
    )
    with op.batch_alter_table("faq_search_miss", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_faq_search_miss_last_at"), ["last_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("faq_search_miss", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_search_miss_last_at"))
    op.drop_table("faq_search_miss")
