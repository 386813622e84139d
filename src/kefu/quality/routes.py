"""Quality API: figures (JSON and CSV), today live, drill-downs and the staffing
calculator for supervisors; the survey card and page endpoints for customers (the survey
token is the capability)."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from kefu import paging
from kefu.chat import service as chat_service
from kefu.db import DbSession, utcnow
from kefu.deps import ConversationKeyDep, LangDep, SettingsDep
from kefu.identity import service as identity_service
from kefu.identity.deps import StaffPrincipal, require
from kefu.quality import drill, export, live, service, staffing, surveys
from kefu.quality.service import Query as FigureQuery

router = APIRouter(prefix="/quality", tags=["quality"])
survey_router = APIRouter(prefix="/surveys", tags=["surveys"])
Reader = Annotated[StaffPrincipal, Depends(require("quality.read"))]
Token = Annotated[str, Path(min_length=16, max_length=64)]


class Filters:
    """The filters every figure question shares, checked by ``service.make_query``."""

    def __init__(
        self,
        db: DbSession,
        settings: SettingsDep,
        start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
        end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
        channel: Annotated[str | None, Query(max_length=12)] = None,
        category: Annotated[str | None, Query(max_length=40)] = None,
        agent: Annotated[str | None, Query(max_length=64)] = None,
        team: Annotated[str | None, Query(max_length=20)] = None,
        target: Annotated[float | None, Query(ge=0, le=3600)] = None,
    ) -> None:
        staff_id = None
        if agent:
            user = identity_service.get_staff_by_username(db, agent)
            staff_id = user.id if user is not None else -1  # an unknown agent matches nothing
        self.query = service.make_query(
            start=start,
            end=end,
            today=utcnow().astimezone(settings.tz).date(),
            channel=channel,
            category=category,
            staff_id=staff_id,
            team=team,
            target_seconds=target,
        )


FiltersDep = Annotated[Filters, Depends()]
By = Annotated[str, Query(max_length=10)]


@router.get("/figures")
def figures(
    _staff: Reader, db: DbSession, settings: SettingsDep, filters: FiltersDep, by: By = "day"
) -> dict[str, Any]:
    table = service.table(db, filters.query, breakdown=by, settings=settings, now=utcnow())
    return export.as_json(table, filters.query)


@router.get("/figures.csv")
def figures_csv(
    _staff: Reader,
    db: DbSession,
    settings: SettingsDep,
    lang: LangDep,
    filters: FiltersDep,
    by: By = "day",
) -> Response:
    table = service.table(db, filters.query, breakdown=by, settings=settings, now=utcnow())
    return _csv(export.table_csv(table, lang=lang, bom=True), f"quality-{by}", filters.query)


def _csv(text: str, name: str, query: FigureQuery) -> Response:
    filename = f"{name}-{query.start.isoformat()}-{query.end.isoformat()}.csv"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/live")
def live_view(
    _staff: Reader,
    db: DbSession,
    settings: SettingsDep,
    target: Annotated[float, Query(ge=0, le=3600)] = service.DEFAULT_TARGET_SECONDS,
) -> dict[str, Any]:
    now = utcnow()
    found = live.live(db, settings=settings, now=now, target_seconds=target)
    return {
        "at": found.at.isoformat(),
        "waiting": found.waiting,
        "urgent_waiting": found.urgent_waiting,
        "longest_wait_seconds": round(found.longest_wait_seconds, 1),
        "over_target": found.over_target,
        "agents_online": found.agents_online,
        "agents_busy": found.agents_busy,
        "cases_at_risk": found.cases_at_risk,
        "cases_late": found.cases_late,
        "today": export.as_json(found.today, found.query)["total"],
    }


@router.get("/drill")
def drill_down(
    _staff: Reader,
    db: DbSession,
    settings: SettingsDep,
    filters: FiltersDep,
    figure: Annotated[str, Query(max_length=30)],
    limit: Annotated[int, Query(ge=1, le=500)] = drill.PAGE,
    cursor: Annotated[str | None, Query(max_length=400, description=paging.CURSOR_HELP)] = None,
    offset: Annotated[
        int, Query(ge=0, le=1_000_000, deprecated=True, description=paging.OFFSET_HELP)
    ] = 0,
) -> dict[str, Any]:
    """The contacts behind a figure, newest first; ``next_cursor`` starts the next page."""
    read, total = drill.contacts(
        db,
        filters.query,
        figure=figure,
        settings=settings,
        limit=limit + 1,
        offset=offset,
        after=cursor,
    )
    rows, next_cursor = drill.cut(read, limit)
    return {
        "figure": figure,
        "total": total,
        "rows": [row.as_dict() for row in rows],
        "next_cursor": next_cursor,
    }


@router.get("/staffing")
def staffing_calculator(
    _staff: Reader,
    contacts: Annotated[float, Query(ge=0, le=1_000_000)],
    aht: Annotated[float, Query(ge=1, le=86_400)],
    target: Annotated[float, Query(ge=0, le=3600)] = 20.0,
    level: Annotated[float, Query(gt=0, lt=1)] = 0.8,
    max_wait: Annotated[float | None, Query(gt=0, le=3600)] = None,
    max_occupancy: Annotated[float | None, Query(gt=0, le=1)] = None,
    shrinkage: Annotated[float, Query(ge=0, lt=1)] = 0.0,
    interval: Annotated[int, Query(ge=60, le=86_400)] = staffing.INTERVAL_SECONDS,
) -> dict[str, Any]:
    answer = staffing.agents_needed(
        staffing.Inputs(
            contacts=contacts,
            aht_seconds=aht,
            target_seconds=target,
            service_level=level,
            max_average_wait=max_wait,
            max_occupancy=max_occupancy,
            shrinkage=shrinkage,
            interval_seconds=interval,
        )
    )
    return {
        "traffic_erlangs": round(answer.traffic, 4),
        "agents": answer.agents,
        "scheduled": answer.scheduled,
        "service_level": round(answer.service_level, 4),
        "average_wait_seconds": round(answer.average_wait, 2),
        "waiting_chance": round(answer.waiting_chance, 4),
        "occupancy": round(answer.occupancy, 4),
    }


# --- the survey, for customers ----------------------------------------------------------


class SurveyAnswerIn(BaseModel):
    score: int = Field(ge=1, le=5)
    solved: bool | None = None
    reasons: list[str] = Field(default_factory=list, max_length=10)
    comment: str | None = Field(default=None, max_length=surveys.MAX_COMMENT)


def _survey_view(db: DbSession, survey: Any, lang: LangDep) -> dict[str, Any]:
    return {
        "token": survey.token,
        "status": survey.status,
        "reference": surveys.reference_of(db, survey) or None,
        "questions": surveys.questions(db, survey, lang),
    }


def signed_in_customer(request: Request, db: DbSession) -> int | None:
    """The customer a bearer token proves, if the caller sent one: a signed-in customer
    reaches only their own surveys (another's answers as an unknown token)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    record = identity_service.resolve_token(db, value.strip(), kinds={"customer"})
    return record.customer_id if record is not None else None


SignedInCustomer = Annotated[int | None, Depends(signed_in_customer)]


@survey_router.get("/conversation/{public_id}")
def survey_for_conversation(
    db: DbSession,
    lang: LangDep,
    public_id: Annotated[str, Path(min_length=8, max_length=40)],
    customer_id: SignedInCustomer,
    conversation_key: ConversationKeyDep = None,
) -> dict[str, Any]:
    """The chat card for the caller's own conversation (its owner key, or the signed-in
    customer it belongs to): ``sent`` with its questions, or ``scheduled`` with the seconds
    until it is due (no token yet); 404 when none is coming, or not theirs."""
    conversation = chat_service.for_owner(
        db, public_id, key=conversation_key, customer_id=customer_id
    )
    now = utcnow()
    survey = surveys.chat_card(db, conversation.id, now=now)
    if survey is None:
        raise surveys.SurveyNotFound("no survey for this conversation")
    if survey.status == "scheduled":
        wait = max(0.0, (survey.due_at - now).total_seconds())
        return {"status": "scheduled", "due_in_seconds": math.ceil(wait)}
    db.commit()
    return _survey_view(db, survey, lang)


@survey_router.get("/{token}")
def survey_questions(
    db: DbSession, lang: LangDep, token: Token, customer_id: SignedInCustomer
) -> dict[str, Any]:
    return _survey_view(db, surveys.by_token(db, token, customer_id=customer_id), lang)


@survey_router.post("/{token}")
def answer_survey(
    db: DbSession, token: Token, body: SurveyAnswerIn, customer_id: SignedInCustomer
) -> dict[str, Any]:
    """The chat card's answer (the e-mail page posts its own form)."""
    survey = surveys.answer(
        db,
        token,
        surveys.Answers(
            score=body.score,
            solved=body.solved,
            reasons=tuple(body.reasons),
            comment=body.comment,
        ),
        via="chat",
        customer_id=customer_id,
    )
    db.commit()
    return {"status": survey.status}


@survey_router.post("/{token}/opt-out")
def opt_out_of_surveys(db: DbSession, token: Token) -> dict[str, Any]:
    survey = surveys.by_token(db, token)
    if survey.customer_id is not None:
        surveys.opt_out(db, survey.customer_id, via="link")
    db.commit()
    return {"opted_out": survey.customer_id is not None}
