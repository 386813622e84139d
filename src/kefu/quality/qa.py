"""QA scorecards (质检): supervisors review a sample of contacts against a rubric.

The sample leans toward what most needs a second look — a low survey score, an
escalation, a handle time well above the usual — but keeps some purely random picks so
good work is seen too. Picks are weighted random without replacement (Efraimidis–Spirakis:
each candidate draws u^(1/w) and the largest keys win), so a seed makes a sample repeatable.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu import audit, paging
from kefu.db import utcnow
from kefu.errors import Conflict, InvalidInput, NotFound
from kefu.quality import survey_config
from kefu.quality.models import QaReview, QualityContact
from kefu.sensitive import mask

# criterion -> weight in the total (percent)
RUBRIC: Final = {
    "response_time": 20,
    "knowledge": 20,
    "attitude": 20,
    "solution": 25,
    "follow_up": 15,
}
REASON_WEIGHTS: Final = {"low_csat": 20.0, "escalated": 10.0, "long_handle": 10.0, "random": 1.0}
LONG_HANDLE_FACTOR: Final = 2.0  # "long" is more than twice the sample period's average
MAX_SAMPLE: Final = 200
MAX_CANDIDATES: Final = 50_000
MAX_COMMENT: Final = 2000


@dataclass(frozen=True)
class Candidate:
    contact_id: int
    staff_id: int
    case_id: int | None
    low_csat: bool
    escalated: bool
    handle_seconds: float

    def reason(self, long_handle: float) -> str:
        if self.low_csat:
            return "low_csat"
        if self.escalated:
            return "escalated"
        if long_handle and self.handle_seconds > long_handle:
            return "long_handle"
        return "random"


def candidates(db: Session, *, start: datetime, end: datetime) -> list[Candidate]:
    reviewed = select(QaReview.contact_id)
    query = (
        select(
            QualityContact.id,
            QualityContact.staff_id,
            QualityContact.case_id,
            QualityContact.survey_score,
            QualityContact.escalations,
            QualityContact.handle_seconds,
        )
        .where(
            QualityContact.started_at >= start,
            QualityContact.started_at < end,
            QualityContact.staff_id.is_not(None),
            QualityContact.id.not_in(reviewed),
        )
        .order_by(QualityContact.id)
        .limit(MAX_CANDIDATES)
    )
    low = survey_config.load(db).low_score_max
    return [
        Candidate(
            contact_id=row[0],
            staff_id=row[1] or 0,  # never 0: the query keeps contacts with an agent
            case_id=row[2],
            low_csat=row[3] is not None and row[3] <= low,
            escalated=(row[4] or 0) > 0,
            handle_seconds=float(row[5] or 0.0),
        )
        for row in db.execute(query)
    ]


def draw_sample(
    db: Session,
    *,
    start: datetime,
    end: datetime,
    size: int,
    actor: audit.Actor,
    seed: int | None = None,
    now: datetime | None = None,
) -> list[QaReview]:
    """Draw ``size`` contacts not yet reviewed from [start, end) into the review list."""
    if not 1 <= size <= MAX_SAMPLE:
        raise InvalidInput(f"a sample is 1 to {MAX_SAMPLE} contacts", field="size")
    if end <= start:
        raise InvalidInput("the period ends before it starts", field="end")
    now = now or utcnow()
    pool = candidates(db, start=start, end=end)
    handled = [c.handle_seconds for c in pool if c.handle_seconds > 0]
    long_handle = LONG_HANDLE_FACTOR * sum(handled) / len(handled) if handled else 0.0
    rng = random.Random(seed)  # noqa: S311 - sampling, not security

    def key(candidate: Candidate) -> float:
        weight = REASON_WEIGHTS[candidate.reason(long_handle)]
        return math.log(1.0 - rng.random()) / weight  # log of u^(1/w), larger wins

    chosen = sorted(pool, key=key, reverse=True)[:size]
    reviews = [
        QaReview(
            contact_id=c.contact_id,
            case_id=c.case_id,
            staff_id=c.staff_id,
            status="sampled",
            sample_reason=c.reason(long_handle),
            scores={},
            comments={},
            created_at=now,
        )
        for c in chosen
    ]
    db.add_all(reviews)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="quality.qa.sample",
        after={"size": len(reviews), "start": start.isoformat(), "end": end.isoformat()},
    )
    return reviews


def get(db: Session, review_id: int) -> QaReview:
    review = db.get(QaReview, review_id)
    if review is None:
        raise NotFound("no such review")
    return review


def total(scores: dict[str, int]) -> float:
    """Weighted percentage: 1 of 5 counts as 0 %, 5 of 5 as 100 %."""
    return round(sum(RUBRIC[c] * (scores[c] - 1) / 4 for c in RUBRIC), 1)


def score(
    db: Session,
    review: QaReview,
    *,
    scores: dict[str, int],
    comments: dict[str, str],
    summary: str | None,
    reviewer_id: int,
    actor: audit.Actor,
    now: datetime | None = None,
) -> QaReview:
    if review.status == "done":
        raise Conflict("this review is already done", reason="done")
    if set(scores) != set(RUBRIC):
        raise InvalidInput(f"score every criterion: {', '.join(RUBRIC)}", field="scores")
    for criterion, value in scores.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise InvalidInput("each score is 1 to 5", field=f"scores.{criterion}")
    unknown = set(comments) - set(RUBRIC)
    if unknown:
        raise InvalidInput(f"unknown criteria {sorted(unknown)}", field="comments")
    texts = {c: t.strip() for c, t in comments.items() if t and t.strip()}
    if any(len(t) > MAX_COMMENT for t in texts.values()) or len(summary or "") > MAX_COMMENT:
        raise InvalidInput("a comment is at most 2000 characters", field="comments")
    if reviewer_id == review.staff_id:
        raise InvalidInput("nobody reviews their own work", field="reviewer")
    review.scores = dict(scores)
    review.comments = {c: mask(t) for c, t in texts.items()}
    review.summary = mask(summary.strip()) if summary and summary.strip() else None
    review.total = total(scores)
    review.reviewer_id = reviewer_id
    review.status = "done"
    review.reviewed_at = now or utcnow()
    audit.record(
        db,
        actor=actor,
        action="quality.qa.review",
        after={"review": review.id, "total": review.total},
    )
    return review


def add_contact(
    db: Session, *, contact_id: int, actor: audit.Actor, now: datetime | None = None
) -> QaReview:
    """Put one contact on the review list by hand (from a drill-down)."""
    contact = db.get(QualityContact, contact_id)
    if contact is None:
        raise NotFound("no such contact")
    if contact.staff_id is None:
        raise InvalidInput("no person handled this contact", field="contact_id")
    existing = db.scalar(select(QaReview).where(QaReview.contact_id == contact_id))
    if existing is not None:
        return existing
    review = QaReview(
        contact_id=contact.id,
        case_id=contact.case_id,
        staff_id=contact.staff_id,
        status="sampled",
        sample_reason="chosen",
        scores={},
        comments={},
        created_at=now or utcnow(),
    )
    db.add(review)
    db.flush()
    audit.record(db, actor=actor, action="quality.qa.add", after={"review": review.id})
    return review


LIST_ORDER = paging.Keyset((QaReview.created_at, paging.DESC), (QaReview.id, paging.DESC))


def list_reviews(
    db: Session,
    *,
    staff_id: int | None = None,
    status: str | None = None,
    limit: int = 100,
    after: str | None = None,
) -> list[QaReview]:
    """Newest first (``LIST_ORDER``), the page after the cursor ``after``."""
    query = select(QaReview)
    if staff_id is not None:
        query = query.where(QaReview.staff_id == staff_id)
    if status is not None:
        if status not in ("sampled", "done"):
            raise InvalidInput("status is sampled or done", field="status")
        query = query.where(QaReview.status == status)
    return list(db.scalars(LIST_ORDER.page(query, after=after).limit(limit)))
