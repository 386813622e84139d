"""Security questions for a signed-in customer: which questions exist and which they
answered (never an answer), and setting answers after a fresh one-time-code check."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from kefu.db import DbSession
from kefu.deps import SettingsDep
from kefu.i18n import Lang, translate
from kefu.identity import questions
from kefu.identity.deps import CurrentCustomer
from kefu.identity.models import SecurityAnswer

router = APIRouter(tags=["verification"])

Answer = Annotated[str, Field(min_length=1, max_length=32)]


class SecurityQuestionRead(BaseModel):
    question: str
    text: str
    format: str
    keys: int = Field(description="How many keys the answer takes on a phone keypad")
    set: bool
    set_at: datetime | None


class SecurityQuestionsRead(BaseModel):
    asked: int = Field(description="How many of the answered questions a caller is asked")
    questions: list[SecurityQuestionRead]

    @classmethod
    def of(cls, answered: list[SecurityAnswer], asked: int, lang: Lang) -> SecurityQuestionsRead:
        when = {a.question: a.set_at for a in answered}
        return cls(
            asked=asked,
            questions=[
                SecurityQuestionRead(
                    question=q.id,
                    text=translate(f"security.question.{q.id}", lang),
                    format=translate(f"security.question.{q.id}.format", lang),
                    keys=q.keys,
                    set=q.id in when,
                    set_at=when.get(q.id),
                )
                for q in questions.QUESTIONS.values()
            ],
        )


class SecurityAnswersSet(BaseModel):
    answers: dict[str, Answer] = Field(
        min_length=1,
        max_length=len(questions.QUESTIONS),
        description="Question id → answer; the questions not named keep their answers",
    )


@router.get("/me/security-questions", response_model=SecurityQuestionsRead)
def my_security_questions(
    principal: CurrentCustomer, request: Request, db: DbSession, settings: SettingsDep
) -> SecurityQuestionsRead:
    answered = questions.answers_of(db, principal.customer.id)
    return SecurityQuestionsRead.of(answered, settings.security_questions_asked, request.state.lang)


@router.put("/me/security-questions", response_model=SecurityQuestionsRead)
def set_security_answers(
    body: SecurityAnswersSet,
    principal: CurrentCustomer,
    request: Request,
    db: DbSession,
    settings: SettingsDep,
) -> SecurityQuestionsRead:
    answered = questions.set_answers(
        db,
        customer_id=principal.customer.id,
        verification_id=principal.token.verification_id,
        answers=body.answers,
    )
    db.commit()
    return SecurityQuestionsRead.of(answered, settings.security_questions_asked, request.state.lang)
