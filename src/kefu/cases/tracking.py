"""Case tracking by the customer, on any channel: quote a reference after verification
and hear the status, the committed time and the public timeline, never internal notes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.cases import notify, service, timeline
from kefu.cases.models import Case
from kefu.cases.schemas import CaseSummary, CaseTracking
from kefu.config import Settings
from kefu.i18n import Lang, translate


def track(
    db: Session, *, customer_id: int, reference: str, settings: Settings, lang: Lang
) -> CaseTracking:
    """Another customer's reference answers exactly like an unknown one (CaseNotFound)."""
    case = service.get_customer_case(db, customer_id=customer_id, reference=reference)
    return CaseTracking.of(
        case,
        timeline.events(db, case, public_only=True),
        settings,
        lang,
        notify.committed_sentence(case, settings, lang),
    )


def my_cases(db: Session, *, customer_id: int, lang: Lang, limit: int = 50) -> list[CaseSummary]:
    query = (
        select(Case)
        .where(Case.customer_id == customer_id)
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(limit)
    )
    return [
        CaseSummary(
            reference=case.reference,
            category_name=translate(f"case.category.{case.category}", lang),
            status_name=translate(f"case.status.{case.status}", lang),
            committed_at=case.committed_at,
            created_at=case.created_at,
        )
        for case in db.scalars(query)
    ]
