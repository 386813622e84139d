"""kb: FAQ articles, their versioned texts per language, and "did this help?" votes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 11:33:35.655355
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kefu.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "faq_article",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("intent", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_article")),
        sa.UniqueConstraint("slug", name=op.f("uq_faq_article_slug")),
    )
    op.create_table(
        "faq_article_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("edited_by", sa.String(length=80), nullable=False),
        sa.Column("edited_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["faq_article.id"],
            name=op.f("fk_faq_article_version_article_id_faq_article"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_article_version")),
        sa.UniqueConstraint(
            "article_id", "lang", "version", name=op.f("uq_faq_article_version_article_id")
        ),
    )
    op.create_table(
        "faq_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("client_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["faq_article.id"], name=op.f("fk_faq_feedback_article_id_faq_article")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_feedback")),
        sa.UniqueConstraint("article_id", "client_hash", name=op.f("uq_faq_feedback_article_id")),
    )
    with op.batch_alter_table("faq_feedback", schema=None) as batch_op:
        batch_op.create_index(
            "ix_faq_feedback_article_id_helpful", ["article_id", "helpful"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("faq_feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_faq_feedback_article_id_helpful")

    op.drop_table("faq_feedback")
    op.drop_table("faq_article_version")
    op.drop_table("faq_article")
