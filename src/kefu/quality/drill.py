"""From a figure to the contacts (and cases) behind it.

Each figure names the contacts a manager wants to see when it looks wrong: behind the
abandonment rate the abandoned contacts, behind CSAT the low scores, and so on
(``metrics.Figure.drill``). The list reads ``quality_contact`` by its start-time index,
newest first, a page at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, exists, false, func, not_, or_, select, true
from sqlalchemy.orm import Session

from kefu import paging
from kefu.cases import service as cases_service
from kefu.config import Settings
from kefu.errors import InvalidInput
from kefu.identity import service as identity_service
from kefu.quality import metrics, survey_config
from kefu.quality.models import QualityContact, QualitySegment
from kefu.quality.service import Query, bounds, staff_scope

PAGE: Final = 50
LIST_ORDER = paging.Keyset(
    (QualityContact.started_at, paging.DESC), (QualityContact.id, paging.DESC)
)
MAX_EXPORT: Final = 10_000
_SEGMENT_FIGURES: Final = frozenset({"answered", "waited_long", "abandoned"})


def _segment(*terms: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(QualitySegment.contact_id == QualityContact.id, *terms)


def condition(name: str, *, target_seconds: float, low_score_max: int) -> ColumnElement[bool]:
    c = QualityContact
    fcr = and_(c.resolved_at.is_not(None), c.reopens == 0, c.followed_by_repeat.is_(False))
    conditions: dict[str, ColumnElement[bool]] = {
        "all": true(),
        "answered": _segment(
            QualitySegment.queued_at.is_not(None), QualitySegment.answered_at.is_not(None)
        ),
        "waited_long": or_(
            _segment(QualitySegment.wait_seconds > target_seconds),
            _segment(
                QualitySegment.abandoned_at.is_not(None), QualitySegment.answered_at.is_(None)
            ),
        ),
        "abandoned": _segment(
            QualitySegment.abandoned_at.is_not(None), QualitySegment.answered_at.is_(None)
        ),
        "replied": c.first_reply_at.is_not(None),
        "resolved": c.resolved_at.is_not(None),
        "unresolved": c.resolved_at.is_(None),
        "not_fcr": and_(c.is_repeat.is_(False), not_(fcr)),
        "not_contained": and_(
            c.bot_answered_at.is_not(None),
            or_(
                c.handed_over_at.is_not(None),
                c.followed_by_repeat.is_(True),
                _segment(
                    or_(
                        QualitySegment.queued_at.is_not(None),
                        QualitySegment.answered_at.is_not(None),
                    )
                ),
            ),
        ),
        "sla_missed": c.within_sla.is_(False),
        "escalated": c.escalations > 0,
        "reopened": c.reopens > 0,
        "low_score": c.survey_score <= low_score_max,
        "not_solved": c.survey_solved.is_(False),
        "survey_unanswered": and_(c.survey_sent.is_(True), c.survey_score.is_(None)),
    }
    return conditions.get(name, false())


@dataclass(frozen=True)
class DrillRow:
    contact_id: int
    customer_id: int | None
    started_at: datetime
    channel: str
    category: str | None
    case_reference: str | None
    agent: str | None
    resolved: bool
    escalations: int
    reopens: int
    survey_score: int | None
    handle_seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "contact_id": self.contact_id,
            "customer_id": self.customer_id,
            "started_at": self.started_at.isoformat(),
            "channel": self.channel,
            "category": self.category or "",
            "case_reference": self.case_reference or "",
            "agent": self.agent or "",
            "resolved": self.resolved,
            "escalations": self.escalations,
            "reopens": self.reopens,
            "survey_score": self.survey_score,
            "handle_seconds": round(self.handle_seconds, 1),
        }


def figure_drill(figure: str) -> str:
    for item in metrics.FIGURES:
        if item.name == figure:
            return item.drill
    raise InvalidInput(f"unknown figure {figure!r}", field="figure")


def cut(rows: list[DrillRow], limit: int) -> tuple[list[DrillRow], str | None]:
    """The page and where the next one starts, from rows read with ``limit + 1``."""
    return paging.cut(
        rows, limit, lambda row: LIST_ORDER.encode_values([row.started_at, row.contact_id])
    )


def contacts(
    db: Session,
    query: Query,
    *,
    figure: str,
    settings: Settings,
    limit: int = PAGE,
    offset: int = 0,
    after: str | None = None,
) -> tuple[list[DrillRow], int]:
    """One page of the contacts behind ``figure`` (newest first, ``LIST_ORDER``, after the
    cursor ``after``; ``offset``: the API's deprecated way) and how many there
    are in all."""
    if not 1 <= limit <= MAX_EXPORT or offset < 0:
        raise InvalidInput("bad page", field="offset")
    drill = figure_drill(figure)
    start, end = bounds(query, settings)
    c = QualityContact
    terms: list[ColumnElement[bool]] = [
        c.started_at >= start,
        c.started_at < end,
        condition(
            drill,
            target_seconds=query.target_seconds,
            low_score_max=survey_config.load(db).low_score_max,
        ),
    ]
    if query.channel:
        terms.append(c.channel == query.channel)
    if query.category:
        terms.append(c.category == query.category)
    staff_ids = staff_scope(db, query)
    if staff_ids is not None:
        if drill in _SEGMENT_FIGURES:
            terms.append(_segment(QualitySegment.staff_id.in_(staff_ids)))
        else:
            terms.append(c.staff_id.in_(staff_ids))
    where = and_(*terms)
    total = int(db.scalar(select(func.count()).select_from(c).where(where)) or 0)
    found = list(
        db.scalars(LIST_ORDER.page(select(c).where(where), after=after).limit(limit).offset(offset))
    )
    missing = [x.case_id for x in found if x.case_id is not None and not x.case_reference]
    references = cases_service.references(db, missing)
    staff = {s.id: s.display_name for s in identity_service.list_staff(db)}
    rows = [
        DrillRow(
            contact_id=x.id,
            customer_id=x.customer_id,
            started_at=x.started_at,
            channel=x.channel,
            category=x.category,
            case_reference=x.case_reference or references.get(x.case_id or 0),
            agent=staff.get(x.staff_id) if x.staff_id else None,
            resolved=x.resolved_at is not None,
            escalations=x.escalations,
            reopens=x.reopens,
            survey_score=x.survey_score,
            handle_seconds=x.handle_seconds,
        )
        for x in found
    ]
    return rows, total
