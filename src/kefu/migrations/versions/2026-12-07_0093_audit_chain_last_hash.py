"""audit_chain_last_hash(): the audit chain's lock and its last hash in one round trip

Revision ID: 0093
Revises: 0092
Create Date: 2026-12-07 14:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0093"
down_revision: str | None = "0092"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Any lock key works (0x6B656675, as kefu.audit took it before): every process that appends
# takes the same. VOLATILE: the SELECT takes its snapshot after the lock is granted, so it
# sees the rows committed while this waited for the lock (one statement reading both would
# read the last hash as of before the wait, and fork the chain).
_PG_FUNCTION = """
CREATE FUNCTION audit_chain_last_hash() RETURNS varchar AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(1801807477);
    RETURN (SELECT hash FROM audit_event ORDER BY id DESC LIMIT 1);
END;
$$ LANGUAGE plpgsql VOLATILE
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_chain_last_hash()")
