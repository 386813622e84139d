"""FAQ articles: loading the shipped texts, reading, admin edits with history, feedback.

Functions flush and never commit. Every edit adds a version rather than overwriting, so an
article's history is its versions; the search index always holds the latest version.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu import audit
from kefu.db import utcnow
from kefu.errors import InvalidInput, NotFound
from kefu.i18n import LANGUAGES, Lang
from kefu.kb.models import FaqArticle, FaqArticleVersion, FaqFeedback
from kefu.search import service as search_service

SEARCH_KIND = "faq"
PUBLISHED = "published"
TITLE_MAX = 200
BODY_MAX = 20_000
TEXT_CANDIDATES = 10
TEXT_WEIGHT = 0.5
MIN_INTENT_PROBABILITY = 0.05
SHIPPED_BY = "system"


# The assistant's understanding of a query (``bot.service.guess_intents``), handed in by the
# app so that this domain, which the assistant reads, does not import the assistant.
IntentGuesser = Callable[[str], Sequence[tuple[str, float]]]


@dataclass(frozen=True)
class ArticleText:
    slug: str
    intent: str | None
    lang: str
    title: str
    body: str
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class FeedbackCounts:
    helpful: int
    not_helpful: int


def _shipped() -> list[dict[str, Any]]:
    folder = resources.files("kefu.kb").joinpath("articles")
    return [
        json.loads(entry.read_text(encoding="utf-8"))
        for entry in sorted(folder.iterdir(), key=lambda item: item.name)
        if entry.name.endswith(".json")
    ]


def _check_lang(lang: str) -> Lang:
    for known in LANGUAGES:
        if lang == known:
            return known
    raise InvalidInput(f"unknown language {lang!r}", field="lang")


def _article(db: Session, slug: str) -> FaqArticle:
    article = db.scalar(select(FaqArticle).where(FaqArticle.slug == slug))
    if article is None:
        raise NotFound(f"no FAQ article {slug!r}")
    return article


def _latest(db: Session, article_id: int, lang: str) -> FaqArticleVersion | None:
    return db.scalar(
        select(FaqArticleVersion)
        .where(FaqArticleVersion.article_id == article_id, FaqArticleVersion.lang == lang)
        .order_by(FaqArticleVersion.version.desc())
        .limit(1)
    )


def _text(article: FaqArticle, version: FaqArticleVersion) -> ArticleText:
    return ArticleText(
        slug=article.slug,
        intent=article.intent,
        lang=version.lang,
        title=version.title,
        body=version.body,
        version=version.version,
        updated_at=version.edited_at,
    )


def _add_version(
    db: Session, article: FaqArticle, *, lang: str, title: str, body: str, edited_by: str
) -> FaqArticleVersion:
    previous = _latest(db, article.id, lang)
    now = utcnow()
    version = FaqArticleVersion(
        article_id=article.id,
        lang=lang,
        version=(previous.version + 1) if previous else 1,
        title=title,
        body=body,
        edited_by=edited_by,
        edited_at=now,
    )
    db.add(version)
    article.updated_at = now
    db.flush()
    search_service.index_document(
        db, kind=SEARCH_KIND, ref=f"{article.slug}:{lang}", title=title, body=body, lang=lang
    )
    return version


def load_shipped_articles(db: Session) -> int:
    """Create the shipped articles that are missing; returns how many were created.

    Existing articles are left alone, so running it again never undoes an admin's edit.
    """
    created = 0
    for entry in _shipped():
        slug = entry["intent"]
        if db.scalar(select(FaqArticle.id).where(FaqArticle.slug == slug)) is not None:
            continue
        now = utcnow()
        article = FaqArticle(
            slug=slug, intent=slug, status=PUBLISHED, created_at=now, updated_at=now
        )
        db.add(article)
        db.flush()
        for lang in LANGUAGES:
            _add_version(
                db,
                article,
                lang=lang,
                title=entry[lang]["title"],
                body=entry[lang]["body"],
                edited_by=SHIPPED_BY,
            )
        created += 1
    return created


def list_articles(db: Session, *, lang: str) -> list[ArticleText]:
    lang = _check_lang(lang)
    articles = db.scalars(
        select(FaqArticle).where(FaqArticle.status == PUBLISHED).order_by(FaqArticle.slug)
    ).all()
    texts = []
    for article in articles:
        version = _latest(db, article.id, lang)
        if version is not None:
            texts.append(_text(article, version))
    return texts


def get_article(db: Session, *, slug: str, lang: str) -> ArticleText:
    lang = _check_lang(lang)
    article = _article(db, slug)
    version = _latest(db, article.id, lang)
    if article.status != PUBLISHED or version is None:
        raise NotFound(f"no FAQ article {slug!r} in {lang}")
    return _text(article, version)


def edit_article(
    db: Session, *, slug: str, lang: str, title: str, body: str, actor: audit.Actor
) -> ArticleText:
    lang = _check_lang(lang)
    title, body = title.strip(), body.strip()
    if not title or len(title) > TITLE_MAX:
        raise InvalidInput("title must be 1 to 200 characters", field="title")
    if not body or len(body) > BODY_MAX:
        raise InvalidInput("body must be 1 to 20000 characters", field="body")
    article = _article(db, slug)
    previous = _latest(db, article.id, lang)
    version = _add_version(db, article, lang=lang, title=title, body=body, edited_by=actor.name)
    audit.record(
        db,
        actor=actor,
        action="faq.edit",
        before={"slug": slug, "lang": lang, "version": previous.version if previous else None},
        after={"slug": slug, "lang": lang, "version": version.version, "title": title},
    )
    return _text(article, version)


def history(db: Session, *, slug: str) -> list[FaqArticleVersion]:
    """Every version of every language, newest first."""
    article = _article(db, slug)
    return list(
        db.scalars(
            select(FaqArticleVersion)
            .where(FaqArticleVersion.article_id == article.id)
            .order_by(FaqArticleVersion.edited_at.desc(), FaqArticleVersion.id.desc())
        ).all()
    )


def search(
    db: Session,
    *,
    query: str,
    lang: str,
    limit: int = 10,
    intents: Sequence[tuple[str, float]] = (),
) -> list[ArticleText]:
    """Published articles for a query, best first (``ranked`` says how each scored)."""
    return [
        text for text, _score in ranked(db, query=query, lang=lang, limit=limit, intents=intents)
    ]


def ranked(
    db: Session,
    *,
    query: str,
    lang: str,
    limit: int = 10,
    intents: Sequence[tuple[str, float]] = (),
) -> list[tuple[ArticleText, float]]:
    """Published articles for a query with their scores, best first.

    ``intents`` is what the assistant understood the query to be about (intent ids with
    probabilities, from ``bot.service.guess_intents``). People search the way they talk
    (退钱, "phone stolen"), in words an article may not contain, so the text index alone
    misses them; the assistant was trained on such phrasings. Each article scores its
    intent's probability plus, when the text index found it, ``TEXT_WEIGHT`` times its
    share of the best text score: a confident understanding decides, and the words decide
    among the topics the assistant was unsure between. Articles without an intent (an
    admin's own) are found by their words alone.
    """
    lang = _check_lang(lang)
    published: dict[str, str | None] = dict(
        db.execute(
            select(FaqArticle.slug, FaqArticle.intent).where(FaqArticle.status == PUBLISHED)
        ).all()
    )
    if not published:
        return []
    hits = search_service.search(
        db,
        kind=SEARCH_KIND,
        query=query,
        limit=max(limit, TEXT_CANDIDATES),
        refs_within=[f"{slug}:{lang}" for slug in published],
    )
    scores: dict[str, float] = {}
    best_text = max((hit.score for hit in hits), default=0.0)
    for hit in hits:
        share = hit.score / best_text if best_text > 0 else 0.0
        scores[hit.ref.rsplit(":", 1)[0]] = TEXT_WEIGHT * share
    slug_of_intent = {intent: slug for slug, intent in published.items() if intent}
    for intent, probability in intents:
        article_slug = slug_of_intent.get(intent)
        if article_slug is not None and probability >= MIN_INTENT_PROBABILITY:
            scores[article_slug] = scores.get(article_slug, 0.0) + probability
    best = sorted(scores, key=lambda slug: (-scores[slug], slug))[:limit]
    found = []
    for slug in best:
        try:
            found.append((get_article(db, slug=slug, lang=lang), scores[slug]))
        except NotFound:
            continue  # published without a text in this language yet
    return found


def _client_hash(secret: str, client_key: str) -> str:
    return hmac.new(secret.encode(), client_key.encode(), hashlib.sha256).hexdigest()


def record_feedback(
    db: Session,
    *,
    slug: str,
    lang: str,
    helpful: bool,
    client_key: str | None,
    secret: str,
) -> FeedbackCounts:
    """Count one vote; a client's second vote on the same article replaces their first."""
    lang = _check_lang(lang)
    article = _article(db, slug)
    client_hash = _client_hash(secret, client_key) if client_key else None
    existing = (
        db.scalar(
            select(FaqFeedback)
            .where(FaqFeedback.article_id == article.id, FaqFeedback.client_hash == client_hash)
            .with_for_update()
        )
        if client_hash
        else None
    )
    if existing is not None:
        existing.helpful = helpful
        existing.lang = lang
        existing.created_at = utcnow()
    else:
        vote = FaqFeedback(
            article_id=article.id,
            lang=lang,
            helpful=helpful,
            client_hash=client_hash,
            created_at=utcnow(),
        )
        try:
            with db.begin_nested():
                db.add(vote)
        except IntegrityError:
            # The same client's simultaneous first vote won the race; theirs stands.
            pass
    db.flush()
    return feedback_counts(db, slug=slug)


def feedback_counts(db: Session, *, slug: str) -> FeedbackCounts:
    article = _article(db, slug)
    rows = db.execute(
        select(FaqFeedback.helpful, func.count())
        .where(FaqFeedback.article_id == article.id)
        .group_by(FaqFeedback.helpful)
    ).all()
    counts = {bool(helpful): int(count) for helpful, count in rows}
    return FeedbackCounts(helpful=counts.get(True, 0), not_helpful=counts.get(False, 0))
