"""Customer case tracking API: a verified customer's own cases only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from kefu.cases import conversation, service, tracking
from kefu.cases.schemas import CaseSummary, CaseTracking, CustomerMessageIn
from kefu.db import DbSession
from kefu.deps import LangDep, SettingsDep
from kefu.identity.deps import CurrentCustomer

router = APIRouter(tags=["cases"])
Reference = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/me/cases", response_model=list[CaseSummary])
def my_cases(
    principal: CurrentCustomer,
    db: DbSession,
    lang: LangDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[CaseSummary]:
    return tracking.my_cases(db, customer_id=principal.customer.id, lang=lang, limit=limit)


@router.get("/me/cases/{reference}", response_model=CaseTracking)
def track_case(
    principal: CurrentCustomer,
    reference: Reference,
    db: DbSession,
    settings: SettingsDep,
    lang: LangDep,
) -> CaseTracking:
    return tracking.track(
        db, customer_id=principal.customer.id, reference=reference, settings=settings, lang=lang
    )


@router.post("/me/cases/{reference}/messages", response_model=CaseTracking, status_code=201)
def write_to_case(
    principal: CurrentCustomer,
    reference: Reference,
    body: CustomerMessageIn,
    db: DbSession,
    settings: SettingsDep,
    lang: LangDep,
) -> CaseTracking:
    """The customer adds to their case; a case closed too long ago continues as a new one,
    whose reference comes back."""
    case = service.get_customer_case(db, customer_id=principal.customer.id, reference=reference)
    landed = conversation.customer_message(
        db, case, body=body.body, channel="web", settings=settings
    )
    db.commit()
    return tracking.track(
        db,
        customer_id=principal.customer.id,
        reference=landed.reference,
        settings=settings,
        lang=lang,
    )
