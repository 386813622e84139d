"""SLA policy API: everyone on staff reads the targets; admins change them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from kefu.cases import policies
from kefu.cases.routes import actor_of
from kefu.cases.schemas import SlaPolicyRead, SlaPolicyUpdate, policy_read
from kefu.db import DbSession
from kefu.identity.deps import StaffPrincipal, require

router = APIRouter(tags=["sla"])
_NULLABLE = {"progress_every_hours"}


@router.get("/sla-policies", response_model=list[SlaPolicyRead])
def list_policies(
    db: DbSession, _: Annotated[StaffPrincipal, Depends(require("sla.read"))]
) -> list[SlaPolicyRead]:
    return [policy_read(row) for row in policies.list_policies(db)]


@router.put("/sla-policies/{category}/{priority}", response_model=SlaPolicyRead)
def update_policy(
    staff: Annotated[StaffPrincipal, Depends(require("sla.manage"))],
    category: Annotated[str, Path(max_length=40)],
    priority: Annotated[str, Path(max_length=10)],
    body: SlaPolicyUpdate,
    db: DbSession,
) -> SlaPolicyRead:
    changes = {
        key: value
        for key, value in body.model_dump(exclude_unset=True).items()
        if value is not None or key in _NULLABLE
    }
    row = policies.update_policy(
        db, category=category, priority=priority, changes=changes, actor=actor_of(staff)
    )
    db.commit()
    return policy_read(row)
