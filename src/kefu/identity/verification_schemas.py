"""API shapes for one-time codes and verifications. Codes only ever come in, never go out;
destinations go out masked."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from kefu.identity.models import Verification
from kefu.identity.otp import CodeSent, verification_status
from kefu.identity.schemas import CustomerRead

Channel = Literal["web", "chat", "voice", "email", "wechat"]


class VerificationStart(BaseModel):
    contact: str = Field(min_length=1, max_length=254, description="Phone number or e-mail")
    channel: Channel = "web"
    lang: str | None = Field(default=None, max_length=16, description="Language of replies")


class CodeConfirm(BaseModel):
    code: str = Field(min_length=1, max_length=32)


class VerificationRead(BaseModel):
    """What was proven, how and when; shown to the customer and to staff alike."""

    verification_id: str
    method: str
    channel: str
    destination: str
    status: str
    failed_attempts: int
    created_at: datetime
    verified_at: datetime | None
    expires_at: datetime | None
    locked_at: datetime | None

    @classmethod
    def of(cls, verification: Verification) -> VerificationRead:
        return cls(
            verification_id=verification.public_id,
            method=verification.method,
            channel=verification.channel,
            destination=verification.destination_masked,
            status=verification_status(verification),
            failed_attempts=verification.failed_attempts,
            created_at=verification.created_at,
            verified_at=verification.verified_at,
            expires_at=verification.expires_at,
            locked_at=verification.locked_at,
        )


class CodeSentRead(BaseModel):
    verification_id: str
    method: str
    destination: str
    expires_in: int
    resend_after: int

    @classmethod
    def of(cls, sent: CodeSent) -> CodeSentRead:
        return cls(
            verification_id=sent.verification.public_id,
            method=sent.verification.method,
            destination=sent.verification.destination_masked,
            expires_in=sent.expires_in,
            resend_after=sent.resend_after,
        )


class VerificationConfirmed(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int
    verification: VerificationRead


class CustomerMe(CustomerRead):
    verification: VerificationRead | None
