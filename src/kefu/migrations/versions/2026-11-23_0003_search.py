"""search

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 09:36:29.356823
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kefu.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("lang", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("updated_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_document")),
        sa.UniqueConstraint("kind", "ref", name=op.f("uq_search_document_kind")),
    )
    op.create_table(
        "search_kind_stat",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("documents", sa.BigInteger(), nullable=False),
        sa.Column("total_length", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_search_kind_stat")),
    )
    op.create_table(
        "search_term_stat",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "token", name=op.f("pk_search_term_stat")),
    )
    op.create_table(
        "search_posting",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("tf", sa.Integer(), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["search_document.id"],
            name=op.f("fk_search_posting_document_id_search_document"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("kind", "token", "document_id", name=op.f("pk_search_posting")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("search_posting", schema=None) as batch_op:
        batch_op.create_index("ix_search_posting_document_id", ["document_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("search_posting", schema=None) as batch_op:
        batch_op.drop_index("ix_search_posting_document_id")

    op.drop_table("search_posting")
    op.drop_table("search_term_stat")
    op.drop_table("search_kind_stat")
    op.drop_table("search_document")
