"""staff administration: e-mail, team, edit version and two-factor sign-in on staff users;
recovery codes; set-password links

Revision ID: 0081
Revises: 0071
Create Date: 2026-12-06 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kefu.db

revision: str = "0081"
down_revision: str | None = "0071"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("team", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("totp_enabled_at", kefu.db.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("totp_failures", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("totp_locked_at", kefu.db.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_staff_user_email"), ["email"])
    op.create_table(
        "staff_recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_user.id"],
            name=op.f("fk_staff_recovery_code_staff_user_id_staff_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_recovery_code")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_staff_recovery_code_code_hash")),
    )
    with op.batch_alter_table("staff_recovery_code", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_recovery_code_staff_user_id"), ["staff_user_id"], unique=False
        )
    op.create_table(
        "staff_password_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=8), nullable=False),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("used_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_user.id"],
            name=op.f("fk_staff_password_link_staff_user_id_staff_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_password_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_password_link_token_hash")),
    )
    with op.batch_alter_table("staff_password_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_password_link_staff_user_id"), ["staff_user_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_password_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_password_link_staff_user_id"))
    op.drop_table("staff_password_link")
    with op.batch_alter_table("staff_recovery_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_recovery_code_staff_user_id"))
    op.drop_table("staff_recovery_code")
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_staff_user_email"), type_="unique")
        for column in (
            "totp_last_step",
            "totp_locked_at",
            "totp_failures",
            "totp_enabled_at",
            "totp_secret",
            "version",
            "team",
            "email",
        ):
            batch_op.drop_column(column)
