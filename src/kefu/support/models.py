"""What the four-eyes rule counts: money moved on one person's word, per payment and per
customer per business day, and the row each account's count is locked on."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db import Base, UtcDateTime


class SoleDecision(Base):
    """Money that moved without a supervisor deciding it: a refund, a reversal or the
    refund of an upheld dispute run at once by the person who asked for it, or a refund a
    non-supervisor approved. Approved requests are not here: a supervisor decided them.

    ``key`` is the action's idempotency key, so a replayed action is counted once;
    ``amount_fen`` is the amount in the account's minor unit."""

    __tablename__ = "sole_decision"
    __table_args__ = (Index("ix_sole_decision_account_day", "wallet_account_id", "business_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    action: Mapped[str] = mapped_column(String(24))  # refund | reverse_payment | dispute_refund
    wallet_account_id: Mapped[str] = mapped_column(String(40))
    payment_id: Mapped[str] = mapped_column(String(64), index=True)
    target_id: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int]
    actor: Mapped[str] = mapped_column(String(80))
    actor_role: Mapped[str] = mapped_column(String(24))
    business_day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class FourEyesLock(Base):
    """One row per wallet account, locked (``SELECT … FOR UPDATE``) while a money action
    on the account is checked against what already moved and counted, so two people acting
    on the same payment at the same moment cannot both fit under the limit."""

    __tablename__ = "four_eyes_lock"

    wallet_account_id: Mapped[str] = mapped_column(String(40), primary_key=True)
