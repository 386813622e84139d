"""An approval request as the staff API returns it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ApprovalView(BaseModel):
    """``status`` is ``pending`` until another person decides it."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: int
    action: str
    status: str
    wallet_account_id: str
    target_id: str
    reason: str
    case_reference: str | None
    created_at: datetime


class ApprovalDecisionIn(BaseModel):
    """Approve or reject a waiting request; a rejection needs a reason."""

    approve: bool
    reason: str | None = Field(default=None, max_length=400)
