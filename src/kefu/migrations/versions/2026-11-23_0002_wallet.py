"""wallet

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:36:01.527289
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kefu.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wallet_account",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.String(length=32), nullable=True),
        sa.Column("status_changed_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("balance_fen", sa.BigInteger(), nullable=False),
        sa.Column("failed_login_count", sa.Integer(), nullable=False),
        sa.Column("last_login_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_login_device", sa.String(length=80), nullable=True),
        sa.Column("last_login_city", sa.String(length=60), nullable=True),
        sa.Column("password_reset_at", kefu.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("top_up_day_fen", sa.BigInteger(), nullable=False),
        sa.Column("top_up_txn_fen", sa.BigInteger(), nullable=False),
        sa.Column("transfer_day_fen", sa.BigInteger(), nullable=False),
        sa.Column("transfer_txn_fen", sa.BigInteger(), nullable=False),
        sa.Column("payment_day_fen", sa.BigInteger(), nullable=False),
        sa.Column("payment_txn_fen", sa.BigInteger(), nullable=False),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("balance_fen >= 0", name=op.f("ck_wallet_account_balance_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_account")),
        sa.UniqueConstraint("email", name=op.f("uq_wallet_account_email")),
        sa.UniqueConstraint("phone", name=op.f("uq_wallet_account_phone")),
    )
    op.create_table(
        "wallet_idempotency_key",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("operation", sa.String(length=40), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("result_ref", sa.String(length=60), nullable=False),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_wallet_idempotency_key")),
    )
    op.create_table(
        "wallet_bank_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("bank", sa.String(length=60), nullable=False),
        sa.Column("card_type", sa.String(length=10), nullable=False),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("bound_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["wallet_account.id"],
            name=op.f("fk_wallet_bank_card_account_id_wallet_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_bank_card")),
    )
    with op.batch_alter_table("wallet_bank_card", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wallet_bank_card_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "wallet_login_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("device", sa.String(length=80), nullable=False),
        sa.Column("city", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["wallet_account.id"],
            name=op.f("fk_wallet_login_event_account_id_wallet_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_login_event")),
    )
    with op.batch_alter_table("wallet_login_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_wallet_login_event_account_at", ["account_id", "at"], unique=False
        )

    op.create_table(
        "wallet_movement",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("counterparty", sa.String(length=120), nullable=False),
        sa.Column("counterparty_account_id", sa.String(length=40), nullable=True),
        sa.Column("card_id", sa.Integer(), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_reason", sa.String(length=40), nullable=True),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_wallet_movement_amount_positive")),
        sa.CheckConstraint("fee_fen >= 0", name=op.f("ck_wallet_movement_fee_not_negative")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["wallet_account.id"],
            name=op.f("fk_wallet_movement_account_id_wallet_account"),
        ),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["wallet_bank_card.id"],
            name=op.f("fk_wallet_movement_card_id_wallet_bank_card"),
        ),
        sa.ForeignKeyConstraint(
            ["counterparty_account_id"],
            ["wallet_account.id"],
            name=op.f("fk_wallet_movement_counterparty_account_id_wallet_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_movement")),
    )
    with op.batch_alter_table("wallet_movement", schema=None) as batch_op:
        batch_op.create_index(
            "ix_wallet_movement_account_created", ["account_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_wallet_movement_counterparty_account_id"),
            ["counterparty_account_id"],
            unique=False,
        )

    op.create_table(
        "wallet_refund",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("decision_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_wallet_refund_amount_positive")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["wallet_account.id"],
            name=op.f("fk_wallet_refund_account_id_wallet_account"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["wallet_movement.id"],
            name=op.f("fk_wallet_refund_payment_id_wallet_movement"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_refund")),
    )
    with op.batch_alter_table("wallet_refund", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wallet_refund_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_wallet_refund_payment_id"), ["payment_id"], unique=False
        )

    op.create_table(
        "journal_txn",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "movement_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("refund_id", sa.Integer(), nullable=True),
        sa.Column("memo", sa.String(length=40), nullable=False),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["movement_id"],
            ["wallet_movement.id"],
            name=op.f("fk_journal_txn_movement_id_wallet_movement"),
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"], ["wallet_refund.id"], name=op.f("fk_journal_txn_refund_id_wallet_refund")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_txn")),
    )
    with op.batch_alter_table("journal_txn", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_journal_txn_movement_id"), ["movement_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_journal_txn_refund_id"), ["refund_id"], unique=False)

    op.create_table(
        "wallet_dispute",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "movement_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=14), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("decision_reason", sa.String(length=200), nullable=True),
        sa.Column("refund_id", sa.Integer(), nullable=True),
        sa.Column("created_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["wallet_account.id"],
            name=op.f("fk_wallet_dispute_account_id_wallet_account"),
        ),
        sa.ForeignKeyConstraint(
            ["movement_id"],
            ["wallet_movement.id"],
            name=op.f("fk_wallet_dispute_movement_id_wallet_movement"),
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"],
            ["wallet_refund.id"],
            name=op.f("fk_wallet_dispute_refund_id_wallet_refund"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_dispute")),
    )
    with op.batch_alter_table("wallet_dispute", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wallet_dispute_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_wallet_dispute_movement_id"), ["movement_id"], unique=False
        )

    op.create_table(
        "journal_entry",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "journal_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("ledger_account", sa.String(length=40), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_fen <> 0", name=op.f("ck_journal_entry_amount_not_zero")),
        sa.ForeignKeyConstraint(
            ["journal_id"], ["journal_txn.id"], name=op.f("fk_journal_entry_journal_id_journal_txn")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entry")),
    )
    with op.batch_alter_table("journal_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_journal_entry_journal_id"), ["journal_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_journal_entry_ledger_account"), ["ledger_account"], unique=False
        )

    op.create_table(
        "wallet_state_change",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=True),
        sa.Column(
            "movement_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("refund_id", sa.Integer(), nullable=True),
        sa.Column("dispute_id", sa.Integer(), nullable=True),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("at", kefu.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["wallet_account.id"],
            name=op.f("fk_wallet_state_change_account_id_wallet_account"),
        ),
        sa.ForeignKeyConstraint(
            ["dispute_id"],
            ["wallet_dispute.id"],
            name=op.f("fk_wallet_state_change_dispute_id_wallet_dispute"),
        ),
        sa.ForeignKeyConstraint(
            ["movement_id"],
            ["wallet_movement.id"],
            name=op.f("fk_wallet_state_change_movement_id_wallet_movement"),
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"],
            ["wallet_refund.id"],
            name=op.f("fk_wallet_state_change_refund_id_wallet_refund"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_state_change")),
    )
    with op.batch_alter_table("wallet_state_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wallet_state_change_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_wallet_state_change_dispute_id"), ["dispute_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_wallet_state_change_movement_id"), ["movement_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_wallet_state_change_refund_id"), ["refund_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("wallet_state_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_state_change_refund_id"))
        batch_op.drop_index(batch_op.f("ix_wallet_state_change_movement_id"))
        batch_op.drop_index(batch_op.f("ix_wallet_state_change_dispute_id"))
        batch_op.drop_index(batch_op.f("ix_wallet_state_change_account_id"))

    op.drop_table("wallet_state_change")
    with op.batch_alter_table("journal_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journal_entry_ledger_account"))
        batch_op.drop_index(batch_op.f("ix_journal_entry_journal_id"))

    op.drop_table("journal_entry")
    with op.batch_alter_table("wallet_dispute", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_dispute_movement_id"))
        batch_op.drop_index(batch_op.f("ix_wallet_dispute_account_id"))

    op.drop_table("wallet_dispute")
    with op.batch_alter_table("journal_txn", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journal_txn_refund_id"))
        batch_op.drop_index(batch_op.f("ix_journal_txn_movement_id"))

    op.drop_table("journal_txn")
    with op.batch_alter_table("wallet_refund", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_refund_payment_id"))
        batch_op.drop_index(batch_op.f("ix_wallet_refund_account_id"))

    op.drop_table("wallet_refund")
    with op.batch_alter_table("wallet_movement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_movement_counterparty_account_id"))
        batch_op.drop_index("ix_wallet_movement_account_created")

    op.drop_table("wallet_movement")
    with op.batch_alter_table("wallet_login_event", schema=None) as batch_op:
        batch_op.drop_index("ix_wallet_login_event_account_at")

    op.drop_table("wallet_login_event")
    with op.batch_alter_table("wallet_bank_card", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_bank_card_account_id"))

    op.drop_table("wallet_bank_card")
    op.drop_table("wallet_idempotency_key")
    op.drop_table("wallet_account")
