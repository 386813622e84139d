"""Approval requests: a risky support action asked for by one staff member and run only
when another one, holding the right permission, approves it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db import Base, UtcDateTime


class ApprovalRequest(Base):
    """``target_id`` is the wallet core's id of what the action works on: the refund to
    decide, the payment to reverse or dispute, or the account to unfreeze. ``request_key``
    is the requester's idempotency key, so a double click files one request."""

    __tablename__ = "approval_request"
    __table_args__ = (Index("ix_approval_request_status_created_at", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_key: Mapped[str] = mapped_column(String(100), unique=True)
    action: Mapped[str] = mapped_column(String(24))  # refund | reverse_payment | unfreeze | dispute
    wallet_account_id: Mapped[str] = mapped_column(String(40), index=True)
    target_id: Mapped[str] = mapped_column(String(64))
    # the payment a money action is about (a refund's target is the refund), so a
    # rejection is found again when the same payment is asked for another way
    payment_id: Mapped[str | None] = mapped_column(String(64), index=True)
    amount: Mapped[str | None] = mapped_column(String(20))  # "1288.00", as the port says it
    reason: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    case_reference: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12))  # pending | approved | rejected
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    decision_reason: Mapped[str | None] = mapped_column(String(200))
    result_ref: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SupportAction(Base):
    """One support action as a staff member asked for it, with their reason and what came
    of it: done at once, or waiting for approval. ``key`` is the idempotency key of the
    form it came from, claimed before anything is done, so a double click or a resent form
    returns the first outcome instead of acting again."""

    __tablename__ = "support_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    action: Mapped[str] = mapped_column(String(24))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    transaction_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(200))
    case_reference: Mapped[str | None] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(12))  # claimed | done | pending
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("approval_request.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
