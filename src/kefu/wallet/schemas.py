"""What crosses the wallet port, and the API's request bodies.

Money leaves the port as ``Decimal`` and is written to JSON as a string with two decimals
("500.00"); it enters the API only as such a string, so no float ever touches an amount.
Ids are strings because a company's core names its transactions its own way.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

Money = Annotated[Decimal, PlainSerializer(lambda value: f"{value:.2f}", return_type=str)]
AmountIn = Annotated[str, Field(pattern=r"^[0-9]{1,12}(\.[0-9]{1,2})?$", examples=["500.00"])]
Reason = Annotated[str, Field(min_length=1, max_length=200)]


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class CardView(_View):
    """A bound card as staff may see it: never more than the last four digits."""

    id: str
    bank: str
    card_type: str
    masked_number: str


class LimitView(_View):
    kind: Literal["top_up", "transfer", "payment"]
    per_day: Money
    per_txn: Money
    used_today: Money


class AccountView(_View):
    account_id: str
    name: str
    phone_masked: str
    email_masked: str
    currency: str
    status: Literal["active", "locked", "frozen", "closed"]
    status_reason: str | None
    status_changed_at: datetime
    balance: Money
    failed_login_count: int
    last_login_at: datetime | None
    last_login_device: str | None
    last_login_city: str | None
    password_reset_at: datetime | None
    cards: list[CardView]


class StatusChangeView(_View):
    from_status: str | None
    to_status: str
    reason: str | None
    at: datetime


class TransactionView(_View):
    id: str
    account_id: str
    kind: Literal["topup", "payment", "transfer", "withdrawal"]
    direction: Literal["in", "out"]
    status: str
    status_reason: str | None
    amount: Money
    fee: Money
    currency: str
    counterparty: str
    card_last4: str | None
    created_at: datetime
    updated_at: datetime
    history: list[StatusChangeView]


class RefundView(_View):
    id: str
    transaction_id: str
    account_id: str
    amount: Money
    status: Literal["requested", "approved", "rejected", "paid"]
    reason: str
    decision_reason: str | None
    needs_supervisor: bool
    created_at: datetime
    updated_at: datetime


class DisputeView(_View):
    id: str
    transaction_id: str
    account_id: str
    status: Literal["opened", "investigating", "upheld", "declined"]
    reason: str
    decision_reason: str | None
    refund_id: str | None
    created_at: datetime
    updated_at: datetime


class LoginEventView(_View):
    at: datetime
    succeeded: bool
    device: str
    city: str


class TransactionFilter(BaseModel):
    """Look-ups customers ask for: "the 200 yuan last Tuesday to that shop"."""

    since: datetime | None = None
    until: datetime | None = None
    min_amount: AmountIn | None = None
    max_amount: AmountIn | None = None
    counterparty: str | None = Field(default=None, max_length=120)
    kind: Literal["topup", "payment", "transfer", "withdrawal"] | None = None
    limit: int = Field(default=50, ge=1, le=500)


# --- API request bodies -------------------------------------------------------------------


class FreezeIn(BaseModel):
    reason: Literal["customer_request", "stolen", "risk"]


class RefundIn(BaseModel):
    transaction_id: str
    amount: AmountIn
    reason: Reason


class RefundDecisionIn(BaseModel):
    approve: bool
    reason: Reason | None = None


class TraceIn(BaseModel):
    reason: Reason


class TraceView(BaseModel):
    case_reference: str


class ReverseIn(BaseModel):
    reason: Reason | None = None


class UnfreezeIn(BaseModel):
    reason: Reason


class UnfreezeDecisionIn(RefundDecisionIn):
    """Approve or reject the unfreeze request waiting for the account; a rejection needs
    a reason."""


class DisputeIn(BaseModel):
    transaction_id: str
    reason: Reason


class DisputeDecisionIn(BaseModel):
    outcome: Literal["investigating", "upheld", "declined"]
    reason: Reason | None = None


class LimitIn(BaseModel):
    kind: Literal["top_up", "transfer", "payment"]
    per_day: AmountIn
    per_txn: AmountIn
