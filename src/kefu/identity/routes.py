"""Identity API: staff tokens, staff accounts, customers and their audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from kefu import audit
from kefu.db import DbSession
from kefu.deps import SettingsDep
from kefu.errors import InvalidCredentials
from kefu.identity import service, two_factor
from kefu.identity.deps import CurrentStaff, StaffPrincipal, require
from kefu.identity.errors import (
    TwoFactorLocked,
    TwoFactorNeeded,
    TwoFactorSetupRequired,
    TwoFactorWrong,
)
from kefu.identity.permissions import permissions_of
from kefu.identity.schemas import (
    AuditRead,
    CustomerRead,
    StaffCreate,
    StaffMe,
    StaffRead,
    TokenRequest,
    TokenResponse,
)
from kefu.numbers import RowId

router = APIRouter()


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.post("/auth/token", response_model=TokenResponse, tags=["auth"])
def issue_token(
    body: TokenRequest, request: Request, db: DbSession, settings: SettingsDep
) -> TokenResponse:
    user = service.authenticate_staff(
        db,
        username=body.username,
        password=body.password,
        client_ip=client_ip(request),
        max_failures=settings.login_max_failures,
        window_seconds=settings.login_failure_window_seconds,
    )
    if user is None:
        db.commit()  # keep the failed attempt: it counts towards the throttle
        raise InvalidCredentials()
    if two_factor.needs_setup(user, settings):
        raise TwoFactorSetupRequired()
    if two_factor.enabled(user):
        if not body.code:
            raise TwoFactorNeeded()
        try:
            two_factor.check_code(db, user, code=body.code, settings=settings)
        except (TwoFactorWrong, TwoFactorLocked):
            db.commit()  # the wrong code counts
            raise
    issued = service.issue_token(
        db, kind="api", ttl_seconds=settings.token_ttl_seconds, staff_user_id=user.id
    )
    db.commit()
    return TokenResponse(access_token=issued.token, expires_in=issued.expires_in)


@router.post("/auth/logout", status_code=204, tags=["auth"])
def logout(staff: CurrentStaff, db: DbSession) -> None:
    service.revoke_token(db, staff.token)
    db.commit()


@router.get("/staff/me", response_model=StaffMe, tags=["staff"])
def staff_me(staff: Annotated[StaffPrincipal, Depends(require("console.use"))]) -> StaffMe:
    base = StaffRead.model_validate(staff.user)
    return StaffMe(**base.model_dump(), permissions=sorted(permissions_of(staff.user.role)))


@router.get("/staff", response_model=list[StaffRead], tags=["staff"])
def list_staff(
    db: DbSession, _: Annotated[StaffPrincipal, Depends(require("staff.read"))]
) -> list[StaffRead]:
    return [StaffRead.model_validate(user) for user in service.list_staff(db)]


@router.post("/staff", response_model=StaffRead, status_code=201, tags=["staff"])
def create_staff(
    body: StaffCreate,
    db: DbSession,
    staff: Annotated[StaffPrincipal, Depends(require("staff.manage"))],
) -> StaffRead:
    user = service.create_staff(
        db,
        username=body.username,
        password=body.password,
        role=body.role,
        display_name=body.display_name,
        language=body.language,
        actor=staff.actor,
    )
    db.commit()
    return StaffRead.model_validate(user)


@router.get("/customers", response_model=list[CustomerRead], tags=["customers"])
def list_customers(
    db: DbSession,
    _: Annotated[StaffPrincipal, Depends(require("customer.read"))],
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[CustomerRead]:
    return [CustomerRead.of(c) for c in service.list_customers(db, query=q, limit=limit)]


@router.get("/customers/{customer_id}", response_model=CustomerRead, tags=["customers"])
def get_customer(
    customer_id: RowId,
    db: DbSession,
    _: Annotated[StaffPrincipal, Depends(require("customer.read"))],
) -> CustomerRead:
    return CustomerRead.of(service.get_customer(db, customer_id))


@router.get("/customers/{customer_id}/audit", response_model=list[AuditRead], tags=["audit"])
def customer_audit(
    customer_id: RowId,
    db: DbSession,
    _: Annotated[StaffPrincipal, Depends(require("audit.read_customer"))],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AuditRead]:
    service.get_customer(db, customer_id)
    events = audit.list_events(db, customer_id=customer_id, limit=limit)
    return [AuditRead.model_validate(e) for e in events]


@router.get("/audit", response_model=list[AuditRead], tags=["audit"])
def list_audit(
    db: DbSession,
    _: Annotated[StaffPrincipal, Depends(require("audit.read"))],
    customer_id: RowId | None = None,
    case_reference: Annotated[str | None, Query(max_length=40)] = None,
    action: Annotated[str | None, Query(max_length=80)] = None,
    before_id: RowId | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AuditRead]:
    events = audit.list_events(
        db,
        customer_id=customer_id,
        case_reference=case_reference,
        action=action,
        before_id=before_id,
        limit=limit,
    )
    return [AuditRead.model_validate(e) for e in events]
