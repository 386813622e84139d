"""API shapes for identity. Phone numbers and e-mail addresses leave only masked."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kefu.identity.models import Customer
from kefu.masking import mask_email, mask_phone


class TokenRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    # the authenticator app's code (or a recovery code), for staff with two-factor sign-in
    code: str | None = Field(default=None, max_length=20)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int


class StaffRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: str
    language: str
    is_active: bool
    last_login_at: datetime | None


class StaffMe(StaffRead):
    permissions: list[str]


class StaffCreate(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    role: Literal["agent", "specialist", "supervisor", "admin"]
    display_name: str | None = Field(default=None, max_length=120)
    language: Literal["zh-CN", "en"] = "zh-CN"


class CustomerRead(BaseModel):
    id: int
    wallet_account_id: str
    name: str
    phone_masked: str
    email_masked: str
    language: str
    created_at: datetime

    @classmethod
    def of(cls, customer: Customer) -> CustomerRead:
        return cls(
            id=customer.id,
            wallet_account_id=customer.wallet_account_id,
            name=customer.name,
            phone_masked=mask_phone(customer.phone),
            email_masked=mask_email(customer.email),
            language=customer.language,
            created_at=customer.created_at,
        )


class AuditRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    actor: str
    actor_role: str
    action: str
    customer_id: int | None
    case_reference: str | None
    before: str | None
    after: str | None
    request_id: str | None
