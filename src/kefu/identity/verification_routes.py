"""Verification API: customers prove who they are with a one-time code and get a
short-lived token; customers and staff can see what was verified, never a code."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from kefu import ratelimit
from kefu.channels.deps import SendersDep
from kefu.db import DbSession
from kefu.deps import SettingsDep
from kefu.errors import CodeInvalid, VerificationLocked
from kefu.i18n import normalise_lang
from kefu.identity import otp
from kefu.identity import service as identity_service
from kefu.identity.deps import CurrentCustomer, StaffPrincipal, require
from kefu.identity.schemas import CustomerRead
from kefu.identity.verification_schemas import (
    CodeConfirm,
    CodeSentRead,
    CustomerMe,
    VerificationConfirmed,
    VerificationRead,
    VerificationStart,
)
from kefu.numbers import RowId

router = APIRouter(tags=["verification"])
VerificationId = Annotated[str, Path(min_length=1, max_length=32)]


@router.post("/verifications", response_model=CodeSentRead, status_code=202)
def start_verification(
    body: VerificationStart,
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    senders: SendersDep,
) -> CodeSentRead:
    if lang := normalise_lang(body.lang):
        request.state.lang = lang
    ratelimit.hit(
        db,
        bucket="verification.start",
        key=request.client.host if request.client else "unknown",
        limit=settings.otp_max_per_client_per_hour,
        window_seconds=3600,
        secret=settings.secret_key,
    )
    sent = otp.start_verification(
        db, contact=body.contact, channel=body.channel, settings=settings, senders=senders
    )
    db.commit()
    return CodeSentRead.of(sent)


@router.post(
    "/verifications/{verification_id}/resend", response_model=CodeSentRead, status_code=202
)
def resend_code(
    verification_id: VerificationId, db: DbSession, settings: SettingsDep, senders: SendersDep
) -> CodeSentRead:
    sent = otp.resend_code(
        db, verification_public_id=verification_id, settings=settings, senders=senders
    )
    db.commit()
    return CodeSentRead.of(sent)


@router.post("/verifications/{verification_id}/confirm", response_model=VerificationConfirmed)
def confirm_code(
    verification_id: VerificationId, body: CodeConfirm, db: DbSession, settings: SettingsDep
) -> VerificationConfirmed:
    try:
        verification = otp.confirm_code(
            db, verification_public_id=verification_id, code=body.code, settings=settings
        )
    except (CodeInvalid, VerificationLocked):
        db.commit()  # the wrong try counts towards the lock
        raise
    issued = identity_service.issue_token(
        db,
        kind="customer",
        # the token must not outlive what it proves
        ttl_seconds=min(settings.customer_token_ttl_seconds, settings.verification_ttl_seconds),
        customer_id=verification.customer_id,
        verification_id=verification.id,
    )
    db.commit()
    return VerificationConfirmed(
        access_token=issued.token,
        expires_in=issued.expires_in,
        verification=VerificationRead.of(verification),
    )


@router.get("/me", response_model=CustomerMe)
def me(principal: CurrentCustomer, db: DbSession) -> CustomerMe:
    current = otp.current_verification(db, customer_id=principal.customer.id)
    return CustomerMe(
        **CustomerRead.of(principal.customer).model_dump(),
        verification=VerificationRead.of(current) if current else None,
    )


@router.get("/me/verifications", response_model=list[VerificationRead])
def my_verifications(
    principal: CurrentCustomer,
    db: DbSession,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[VerificationRead]:
    return [
        VerificationRead.of(v)
        for v in otp.list_verifications(db, principal.customer.id, limit=limit)
    ]


@router.get("/customers/{customer_id}/verifications", response_model=list[VerificationRead])
def customer_verifications(
    customer_id: RowId,
    db: DbSession,
    _: Annotated[StaffPrincipal, Depends(require("verification.read"))],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[VerificationRead]:
    identity_service.get_customer(db, customer_id)
    return [VerificationRead.of(v) for v in otp.list_verifications(db, customer_id, limit=limit)]
