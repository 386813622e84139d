"""FAQ API: public reading, search and "did this help?"; admins edit, staff see feedback."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from kefu import ratelimit
from kefu.db import DbSession
from kefu.deps import LangDep, SettingsDep
from kefu.identity.deps import StaffPrincipal, require
from kefu.kb import service
from kefu.kb.service import ArticleText

router = APIRouter(tags=["faq"])
Slug = Annotated[str, Path(max_length=60)]
FEEDBACK_PER_CLIENT_PER_HOUR = 30


class ArticleRead(BaseModel):
    slug: str
    intent: str | None
    lang: str
    title: str
    body: str
    version: int
    updated_at: datetime


class ArticleEdit(BaseModel):
    title: str = Field(max_length=400)
    body: str = Field(max_length=40_000)


class FeedbackCreate(BaseModel):
    helpful: bool
    lang: str = Field(max_length=8)


class FeedbackCountsRead(BaseModel):
    helpful: int
    not_helpful: int


class VersionRead(BaseModel):
    lang: str
    version: int
    title: str
    body: str
    edited_by: str
    edited_at: datetime


def _read(text: ArticleText) -> ArticleRead:
    return ArticleRead(
        slug=text.slug,
        intent=text.intent,
        lang=text.lang,
        title=text.title,
        body=text.body,
        version=text.version,
        updated_at=text.updated_at,
    )


@router.get("/faq", response_model=list[ArticleRead])
def list_faq(
    request: Request,
    db: DbSession,
    request_lang: LangDep,
    lang: Annotated[str | None, Query(max_length=8)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> list[ArticleRead]:
    chosen = lang or request_lang
    if q is not None and q.strip():
        guess: service.IntentGuesser = request.app.state.guess_intents
        found = service.search(db, query=q, lang=chosen, limit=10, intents=guess(q))
        return [_read(text) for text in found]
    return [_read(text) for text in service.list_articles(db, lang=chosen)]


@router.get("/faq/{slug}", response_model=ArticleRead)
def get_faq(
    slug: Slug,
    db: DbSession,
    request_lang: LangDep,
    lang: Annotated[str | None, Query(max_length=8)] = None,
) -> ArticleRead:
    return _read(service.get_article(db, slug=slug, lang=lang or request_lang))


@router.post("/faq/{slug}/feedback", response_model=FeedbackCountsRead)
def post_feedback(
    slug: Slug, body: FeedbackCreate, request: Request, db: DbSession, settings: SettingsDep
) -> FeedbackCountsRead:
    client = request.client.host if request.client else "unknown"
    ratelimit.hit(
        db,
        bucket="faq.feedback",
        key=client,
        limit=FEEDBACK_PER_CLIENT_PER_HOUR,
        window_seconds=3600,
        secret=settings.secret_key,
    )
    counts = service.record_feedback(
        db,
        slug=slug,
        lang=body.lang,
        helpful=body.helpful,
        client_key=client,
        secret=settings.secret_key,
    )
    db.commit()
    return FeedbackCountsRead(helpful=counts.helpful, not_helpful=counts.not_helpful)


@router.get("/faq/{slug}/feedback", response_model=FeedbackCountsRead)
def get_feedback(
    slug: Slug, db: DbSession, _: Annotated[StaffPrincipal, Depends(require("kb.read"))]
) -> FeedbackCountsRead:
    counts = service.feedback_counts(db, slug=slug)
    return FeedbackCountsRead(helpful=counts.helpful, not_helpful=counts.not_helpful)


@router.get("/faq/{slug}/history", response_model=list[VersionRead])
def get_history(
    slug: Slug, db: DbSession, _: Annotated[StaffPrincipal, Depends(require("kb.manage"))]
) -> list[VersionRead]:
    return [
        VersionRead(
            lang=row.lang,
            version=row.version,
            title=row.title,
            body=row.body,
            edited_by=row.edited_by,
            edited_at=row.edited_at,
        )
        for row in service.history(db, slug=slug)
    ]


@router.put("/faq/{slug}/{lang}", response_model=ArticleRead)
def edit_faq(
    slug: Slug,
    lang: Annotated[str, Path(max_length=8)],
    body: ArticleEdit,
    db: DbSession,
    staff: Annotated[StaffPrincipal, Depends(require("kb.manage"))],
) -> ArticleRead:
    actor = staff.actor
    text = service.edit_article(
        db, slug=slug, lang=lang, title=body.title, body=body.body, actor=actor
    )
    db.commit()
    return _read(text)
