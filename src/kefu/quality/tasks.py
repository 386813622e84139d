"""Follow-up tasks (跟进任务) for supervisors: a low survey score means someone calls the
customer back. "Follow-ups done on time" is counted from this list by due date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu import audit, paging
from kefu.db import utcnow
from kefu.errors import Conflict, InvalidInput, NotFound
from kefu.quality.models import QualityContact, QualitySurvey, QualityTask
from kefu.sensitive import mask

MAX_OUTCOME = 2000


def open_for_low_score(
    db: Session, survey: QualitySurvey, *, now: datetime, due_hours: int
) -> QualityTask:
    """One task per survey, however often the low score is reported."""
    existing = db.scalar(select(QualityTask).where(QualityTask.survey_id == survey.id))
    if existing is not None:
        return existing
    contact = db.get(QualityContact, survey.contact_id)
    assert contact is not None
    task = QualityTask(
        kind="low_score",
        status="open",
        contact_id=contact.id,
        survey_id=survey.id,
        case_id=survey.case_id,
        staff_id=survey.staff_id,
        channel=contact.channel,
        category=contact.category,
        summary=survey.comment or "",
        due_at=now + timedelta(hours=due_hours),
        created_at=now,
    )
    db.add(task)
    db.flush()
    return task


def open_for_review(
    db: Session,
    *,
    contact_id: int,
    summary: str,
    actor: audit.Actor,
    due_hours: int = 24,
    now: datetime | None = None,
) -> QualityTask:
    """A supervisor asks for a follow-up after reviewing a contact."""
    now = now or utcnow()
    contact = db.get(QualityContact, contact_id)
    if contact is None:
        raise NotFound("no such contact")
    summary = summary.strip()
    if not summary or len(summary) > MAX_OUTCOME:
        raise InvalidInput("a follow-up needs a summary of 1 to 2000 characters", field="summary")
    task = QualityTask(
        kind="review",
        status="open",
        contact_id=contact.id,
        case_id=contact.case_id,
        staff_id=contact.staff_id,
        channel=contact.channel,
        category=contact.category,
        summary=mask(summary),
        due_at=now + timedelta(hours=due_hours),
        created_at=now,
    )
    db.add(task)
    db.flush()
    audit.record(db, actor=actor, action="quality.task.open", after={"task": task.id})
    return task


def get(db: Session, task_id: int) -> QualityTask:
    task = db.get(QualityTask, task_id)
    if task is None:
        raise NotFound("no such follow-up task")
    return task


LIST_ORDER = paging.Keyset((QualityTask.due_at, paging.ASC), (QualityTask.id, paging.ASC))


def list_tasks(
    db: Session, *, status: str | None = "open", limit: int = 100, after: str | None = None
) -> list[QualityTask]:
    """The soonest due first (``LIST_ORDER``), the page after the cursor ``after``."""
    query = select(QualityTask)
    if status is not None:
        if status not in ("open", "done"):
            raise InvalidInput("status is open or done", field="status")
        query = query.where(QualityTask.status == status)
    return list(db.scalars(LIST_ORDER.page(query, after=after).limit(limit)))


def take(db: Session, task: QualityTask, *, staff_id: int, actor: audit.Actor) -> QualityTask:
    if task.status != "open":
        raise Conflict("this follow-up is already done", reason="done")
    task.assignee_id = staff_id
    audit.record(db, actor=actor, action="quality.task.take", after={"task": task.id})
    return task


def complete(
    db: Session,
    task: QualityTask,
    *,
    outcome: str,
    staff_id: int,
    actor: audit.Actor,
    now: datetime | None = None,
) -> QualityTask:
    if task.status != "open":
        raise Conflict("this follow-up is already done", reason="done")
    outcome = outcome.strip()
    if not outcome or len(outcome) > MAX_OUTCOME:
        raise InvalidInput("say what was done, 1 to 2000 characters", field="outcome")
    task.status = "done"
    task.outcome = mask(outcome)
    task.done_at = now or utcnow()
    task.assignee_id = task.assignee_id or staff_id
    audit.record(
        db,
        actor=actor,
        action="quality.task.done",
        after={"task": task.id, "on_time": task.done_at <= task.due_at},
    )
    return task


@dataclass(frozen=True)
class FollowUpCount:
    due: int
    on_time: int

    @property
    def share(self) -> float | None:
        return self.on_time / self.due if self.due else None


def on_time(
    db: Session,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    channel: str | None = None,
    category: str | None = None,
    staff_ids: tuple[int, ...] | None = None,
) -> FollowUpCount:
    """Tasks that fell due in [start, min(end, now)) and how many were done by then."""
    query = select(
        func.count(),
        func.count().filter(QualityTask.done_at <= QualityTask.due_at),
    ).where(QualityTask.due_at >= start, QualityTask.due_at < min(end, now))
    if channel is not None:
        query = query.where(QualityTask.channel == channel)
    if category is not None:
        query = query.where(QualityTask.category == category)
    if staff_ids is not None:
        query = query.where(QualityTask.staff_id.in_(staff_ids))
    due, done = db.execute(query).one()
    return FollowUpCount(due=int(due or 0), on_time=int(done or 0))
