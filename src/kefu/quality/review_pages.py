"""QA scorecards (质检), follow-up tasks and the survey settings in the console.

Supervisors draw samples and score them; an agent sees only their own finished reviews;
admins change the survey's questions and timing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from kefu import audit, paging
from kefu.db import DbSession, utcnow
from kefu.deps import LangDep, SettingsDep
from kefu.errors import InvalidInput
from kefu.i18n import translate
from kefu.identity import service as identity_service
from kefu.identity.deps import CSRF_FIELD, StaffPrincipal, require
from kefu.numbers import RowId, parse_ascii_int
from kefu.quality import export, qa, survey_config, tasks, transcript
from kefu.quality.models import QaReview, QualityContact, QualitySurvey, QualityTask
from kefu.quality.pages import error_text
from kefu.web.forms import form_errors
from kefu.web.templating import render

router = APIRouter(prefix="/console/quality", include_in_schema=False)
Reviewer = Annotated[StaffPrincipal, Depends(require("quality.review"))]
Agent = Annotated[StaffPrincipal, Depends(require("quality.own_reviews"))]
Admin = Annotated[StaffPrincipal, Depends(require("quality.manage"))]


def _actor(staff: StaffPrincipal) -> audit.Actor:
    return staff.actor


def _base(staff: StaffPrincipal) -> dict[str, Any]:
    return {
        "staff": staff.user,
        "may": staff.may,
        "csrf_token": staff.token.csrf_token,
        "csrf_field": CSRF_FIELD,
    }


def _names(db: DbSession) -> dict[int, str]:
    return {s.id: s.display_name for s in identity_service.list_staff(db)}


PAGE = 100  # rows on a page of reviews or follow-ups
Cursor = Annotated[str | None, Query(max_length=400)]


def _contacts(db: DbSession, ids: list[int]) -> dict[int, QualityContact]:
    return {i: c for i in set(ids) if (c := db.get(QualityContact, i)) is not None}


# --- reviews ----------------------------------------------------------------------------


@router.get("/reviews")
def reviews(
    request: Request,
    staff: Reviewer,
    db: DbSession,
    status: Annotated[str | None, Query(pattern="^(sampled|done)$")] = None,
    after: Cursor = None,
) -> Response:
    return _reviews_page(request, staff, db, status=status, after=after)


def _reviews_page(
    request: Request,
    staff: StaffPrincipal,
    db: DbSession,
    *,
    status: str | None,
    after: str | None = None,
    error: str | None = None,
) -> Response:
    """The review list; ``error``: a refused form's words, never taken from the URL (a
    link could otherwise put any text on this page)."""
    found, next_cursor = qa.LIST_ORDER.cut(
        qa.list_reviews(db, status=status, limit=PAGE + 1, after=after), PAGE
    )
    return render(
        request,
        "quality/reviews.html",
        {
            **_base(staff),
            "reviews": found,
            "contacts": _contacts(db, [r.contact_id for r in found]),
            "names": _names(db),
            "status": status,
            "error": error,
            "rubric": qa.RUBRIC,
            "week_ago": (utcnow().date() - timedelta(days=7)).isoformat(),
            "today": utcnow().date().isoformat(),
            **paging.pager_links(request, after, next_cursor),
        },
        status_code=400 if error else 200,
    )


@router.post("/reviews/sample")
def sample(
    request: Request,
    staff: Reviewer,
    db: DbSession,
    settings: SettingsDep,
    lang: LangDep,
    start: Annotated[str, Form(alias="from", max_length=10)],
    end: Annotated[str, Form(alias="to", max_length=10)],
    size: Annotated[int, Form(ge=1, le=qa.MAX_SAMPLE)] = 20,
) -> Response:
    with form_errors(db, lang, reason=error_text) as refused:
        first, last = _day(start, "from"), _day(end, "to")
        tz = settings.tz
        qa.draw_sample(
            db,
            start=datetime(first.year, first.month, first.day, tzinfo=tz),
            end=datetime(last.year, last.month, last.day, tzinfo=tz) + timedelta(days=1),
            size=size,
            actor=_actor(staff),
        )
    if refused:
        return _reviews_page(request, staff, db, status="sampled", error=refused.text)
    db.commit()
    return RedirectResponse("/console/quality/reviews?status=sampled", status_code=303)


def _day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field} must be a date", field=field) from None


@router.post("/reviews/add")
def add_to_reviews(
    staff: Reviewer, db: DbSession, contact_id: Annotated[RowId, Form()]
) -> Response:
    review = qa.add_contact(db, contact_id=contact_id, actor=_actor(staff))
    db.commit()
    return RedirectResponse(f"/console/quality/reviews/{review.id}", status_code=303)


def _scorecard(
    request: Request,
    staff: StaffPrincipal,
    db: DbSession,
    review: QaReview,
    *,
    error: str | None = None,
    editable: bool,
) -> Response:
    contact = db.get(QualityContact, review.contact_id)
    record = transcript.of_contact(db, contact, request.state.lang) if contact else None
    return render(
        request,
        "quality/review.html",
        {
            **_base(staff),
            "review": review,
            "contact": contact,
            "record": record,
            "names": _names(db),
            "rubric": qa.RUBRIC,
            "editable": editable and review.status != "done",
            "error": error,
        },
        status_code=400 if error else 200,
    )


@router.get("/reviews/{review_id}")
def review_page(
    request: Request, staff: Reviewer, db: DbSession, review_id: Annotated[RowId, Path()]
) -> Response:
    return _scorecard(request, staff, db, qa.get(db, review_id), editable=True)


@router.post("/reviews/{review_id}")
async def score_review(
    request: Request,
    staff: Reviewer,
    db: DbSession,
    lang: LangDep,
    review_id: Annotated[RowId, Path()],
) -> Response:
    form = await request.form()
    review = qa.get(db, review_id)
    with form_errors(db, lang, reason=error_text) as refused:
        scores = {}
        for criterion in qa.RUBRIC:
            score = parse_ascii_int(str(form.get(f"score_{criterion}", "")), low=0)
            if score is None:
                raise InvalidInput("score every criterion", field=f"scores.{criterion}")
            scores[criterion] = score
        qa.score(
            db,
            review,
            scores=scores,
            comments={c: str(form.get(f"comment_{c}", "")) for c in qa.RUBRIC},
            summary=str(form.get("summary", "")),
            reviewer_id=staff.user.id,
            actor=_actor(staff),
        )
    if refused:
        return _scorecard(request, staff, db, review, error=refused.text, editable=True)
    db.commit()
    return RedirectResponse(f"/console/quality/reviews/{review.id}", status_code=303)


@router.get("/my-reviews")
def my_reviews(request: Request, staff: Agent, db: DbSession) -> Response:
    found = qa.list_reviews(db, staff_id=staff.user.id, status="done", limit=200)
    return render(
        request,
        "quality/my_reviews.html",
        {
            **_base(staff),
            "reviews": found,
            "contacts": _contacts(db, [r.contact_id for r in found]),
            "names": _names(db),
            "rubric": qa.RUBRIC,
        },
    )


def _review_rows(db: DbSession, found: list[QaReview], lang: LangDep) -> Response:
    names = _names(db)
    contacts = _contacts(db, [r.contact_id for r in found])
    header = [
        translate(f"quality.review.{c}", lang)
        for c in ("id", "created", "agent", "reason", "case", "total", "reviewer")
    ] + [translate(f"quality.rubric.{c}", lang) for c in qa.RUBRIC]
    rows = [
        [
            r.id,
            r.created_at.isoformat(),
            names.get(r.staff_id, ""),
            translate(f"quality.sample_reason.{r.sample_reason}", lang),
            (contacts[r.contact_id].case_reference if r.contact_id in contacts else "") or "",
            r.total,
            names.get(r.reviewer_id or 0, ""),
            *(r.scores.get(c) for c in qa.RUBRIC),
        ]
        for r in found
    ]
    return _csv(export.plain_csv(header, rows), "qa-reviews")


@router.get("/reviews.csv")
def reviews_csv(staff: Reviewer, db: DbSession, lang: LangDep) -> Response:
    return _review_rows(db, qa.list_reviews(db, limit=10_000), lang)


@router.get("/my-reviews.csv")
def my_reviews_csv(staff: Agent, db: DbSession, lang: LangDep) -> Response:
    found = qa.list_reviews(db, staff_id=staff.user.id, status="done", limit=10_000)
    return _review_rows(db, found, lang)


def _csv(text: str, name: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


# --- follow-up tasks --------------------------------------------------------------------


@router.get("/tasks")
def task_list(
    request: Request,
    staff: Reviewer,
    db: DbSession,
    status: Annotated[str, Query(pattern="^(open|done)$")] = "open",
    after: Cursor = None,
) -> Response:
    return _task_page(request, staff, db, status=status, after=after)


def _task_page(
    request: Request,
    staff: StaffPrincipal,
    db: DbSession,
    *,
    status: str = "open",
    after: str | None = None,
    error: str | None = None,
) -> Response:
    """The follow-up list; ``error`` as for ``_reviews_page``, never from the URL."""
    found, next_cursor = tasks.LIST_ORDER.cut(
        tasks.list_tasks(db, status=status, limit=PAGE + 1, after=after), PAGE
    )
    return render(
        request,
        "quality/tasks.html",
        {
            **_base(staff),
            "tasks": found,
            "status": status,
            "surveys": _task_surveys(db, found),
            "names": _names(db),
            "now": utcnow(),
            "error": error,
            **paging.pager_links(request, after, next_cursor),
        },
        status_code=400 if error else 200,
    )


def _task_surveys(db: DbSession, found: list[QualityTask]) -> dict[int, QualitySurvey]:
    ids = [t.survey_id for t in found if t.survey_id is not None]
    return {s.id: s for s in (db.get(QualitySurvey, i) for i in ids) if s is not None}


@router.post("/tasks/{task_id}/done")
def finish_task(
    request: Request,
    staff: Reviewer,
    db: DbSession,
    lang: LangDep,
    task_id: Annotated[RowId, Path()],
    outcome: Annotated[str, Form(max_length=tasks.MAX_OUTCOME)] = "",
) -> Response:
    with form_errors(db, lang, reason=error_text) as refused:
        tasks.complete(
            db, tasks.get(db, task_id), outcome=outcome, staff_id=staff.user.id, actor=_actor(staff)
        )
    if refused:
        return _task_page(request, staff, db, error=refused.text)
    db.commit()
    return RedirectResponse("/console/quality/tasks", status_code=303)


@router.get("/tasks.csv")
def tasks_csv(staff: Reviewer, db: DbSession, lang: LangDep) -> Response:
    names = _names(db)
    found = tasks.list_tasks(db, status=None, limit=10_000)
    header = [
        translate(f"quality.task.{c}", lang)
        for c in ("id", "kind", "status", "agent", "channel", "due", "done", "on_time")
    ]
    rows = [
        [
            t.id,
            translate(f"quality.task_kind.{t.kind}", lang),
            translate(f"quality.task_status.{t.status}", lang),
            names.get(t.staff_id or 0, ""),
            t.channel,
            t.due_at.isoformat(),
            t.done_at.isoformat() if t.done_at else "",
            "" if t.done_at is None else t.done_at <= t.due_at,
        ]
        for t in found
    ]
    return _csv(export.plain_csv(header, rows), "follow-ups")


# --- survey settings --------------------------------------------------------------------


def _settings_page(
    request: Request,
    staff: StaffPrincipal,
    db: DbSession,
    *,
    config: survey_config.SurveyConfig | None = None,
    error: str | None = None,
    saved: bool = False,
) -> Response:
    return render(
        request,
        "quality/survey_settings.html",
        {
            **_base(staff),
            "config": config or survey_config.load(db),
            "reasons": survey_config.REASONS,
            "error": error,
            "saved": saved,
        },
        status_code=400 if error else 200,
    )


@router.get("/surveys")
def survey_settings(request: Request, staff: Admin, db: DbSession, saved: bool = False) -> Response:
    return _settings_page(request, staff, db, saved=saved)


@router.post("/surveys")
async def save_survey_settings(
    request: Request, staff: Admin, db: DbSession, lang: LangDep
) -> Response:
    form = await request.form()
    numbers = (
        "low_score_max",
        "chat_delay_minutes",
        "sms_delay_minutes",
        "email_delay_minutes",
        "reminder_hours",
        "expiry_hours",
        "followup_hours",
    )
    changes: dict[str, object] = {
        "ask_solved": form.get("ask_solved") == "on",
        "ask_comment": form.get("ask_comment") == "on",
        "ask_reasons": form.get("ask_reasons") == "on",
        "reasons": [str(r) for r in form.getlist("reasons")],
    }
    with form_errors(db, lang, reason=error_text) as refused:
        for name in numbers:
            raw = str(form.get(name, "")).strip()
            number = parse_ascii_int(raw.removeprefix("-"), low=0)
            if number is None:
                raise InvalidInput(f"{name} must be a whole number", field=name)
            changes[name] = -number if raw.startswith("-") else number
        survey_config.save(db, changes, actor=_actor(staff))
    if refused:
        return _settings_page(request, staff, db, error=refused.text)
    db.commit()
    return RedirectResponse("/console/quality/surveys?saved=true", status_code=303)
