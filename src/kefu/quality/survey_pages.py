"""The survey page the e-mail links to (/help/survey/<token>): public, the token is the
capability, in the customer's language, usable on a phone."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from kefu.db import DbSession
from kefu.errors import InvalidInput, KefuError
from kefu.i18n import normalise_lang
from kefu.numbers import parse_ascii_int
from kefu.quality import survey_config, surveys
from kefu.quality.models import QualitySurvey
from kefu.web.templating import render

router = APIRouter(prefix="/help/survey", include_in_schema=False)
Token = Annotated[str, Path(min_length=16, max_length=64)]


def _page(
    request: Request,
    db: DbSession,
    survey: QualitySurvey,
    *,
    error: str | None = None,
    done: str | None = None,
    status_code: int = 200,
) -> Response:
    if not request.state.lang_explicit:
        request.state.lang = normalise_lang(survey.language) or request.state.lang
    return render(
        request,
        "quality/survey.html",
        {
            "survey": survey,
            "reference": surveys.reference_of(db, survey),
            "questions": surveys.questions(db, survey, request.state.lang),
            "error": error,
            "done": done,
        },
        status_code=status_code,
    )


@router.get("/{token}")
def survey_form(request: Request, db: DbSession, token: Token) -> Response:
    survey = surveys.by_token(db, token)
    done = None
    if survey.status == "answered":
        done = "already"
    elif survey.status == "expired":
        done = "closed"
    return _page(request, db, survey, done=done)


@router.post("/{token}")
async def survey_submit(request: Request, db: DbSession, token: Token) -> Response:
    form = await request.form()
    survey = surveys.by_token(db, token)
    score = parse_ascii_int(str(form.get("score", "")), low=0)
    solved_raw = str(form.get("solved", ""))
    try:
        if score is None:
            raise InvalidInput("choose a score", field="score")
        surveys.answer(
            db,
            token,
            surveys.Answers(
                score=score,
                solved={"yes": True, "no": False}.get(solved_raw),
                # the page shows the reasons to everyone; they count only with a low score
                reasons=tuple(str(r) for r in form.getlist("reasons"))
                if survey_config.load(db).asks_reasons(score)
                else (),
                comment=str(form.get("comment", "")) or None,
            ),
            via="email",
        )
    except surveys.SurveyAnswered:
        return _page(request, db, survey, done="already", status_code=409)
    except surveys.SurveyClosed:
        return _page(request, db, survey, done="closed", status_code=410)
    except KefuError as exc:
        field = str(exc.params.get("field", "score"))
        return _page(request, db, survey, error=f"quality.survey.error.{field}", status_code=400)
    db.commit()
    return _page(request, db, survey, done="thanks")


@router.post("/{token}/opt-out")
def survey_opt_out(request: Request, db: DbSession, token: Token) -> Response:
    survey = surveys.by_token(db, token)
    if survey.customer_id is not None:
        surveys.opt_out(db, survey.customer_id, via="link")
    db.commit()
    return _page(request, db, survey, done="opted_out")
