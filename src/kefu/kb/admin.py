"""Knowledge-base administration: articles with their "did this help?" figures, edits of
both languages at once refused on a stale copy, drafts, publishing, every version kept
with its diff and restorable, and the help-center searches that found nothing or only poor
answers.

Functions flush and never commit. Every change is audited with before and after.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu import audit
from kefu.db import utcnow
from kefu.errors import Conflict, InvalidInput, NotFound
from kefu.i18n import LANGUAGES
from kefu.kb.models import SLUG_LENGTH, FaqArticle, FaqArticleVersion, FaqFeedback, FaqSearchMiss
from kefu.kb.service import (
    BODY_MAX,
    PUBLISHED,
    TEXT_WEIGHT,
    TITLE_MAX,
    _add_version,
    _article,
    _latest,
)

DRAFT = "draft"
SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{1,59}")
QUERY_MAX = 100
# A search counts as poorly answered when its best article scored below this: found by
# its words alone (at most TEXT_WEIGHT) while the assistant recognised the topic with
# less than a tenth of its confidence, or recognised it only faintly without the words.
POOR_SCORE = TEXT_WEIGHT + 0.1


class StaleArticle(Conflict):
    code = "stale_edit"
    message_key = "kb.admin.error.stale"


@dataclass(frozen=True)
class ArticleRow:
    slug: str
    status: str
    titles: dict[str, str]
    helpful: int
    not_helpful: int
    updated_at: datetime

    @property
    def helpful_share(self) -> int | None:
        votes = self.helpful + self.not_helpful
        return round(100 * self.helpful / votes) if votes else None


@dataclass(frozen=True)
class Text:
    title: str
    body: str


@dataclass(frozen=True)
class DiffLine:
    kind: str  # same | added | removed
    text: str


def list_articles(db: Session) -> list[ArticleRow]:
    """Every article, published or not, with its votes; least helpful first among voted."""
    votes: dict[tuple[int, bool], int] = {
        (int(article_id), bool(helpful)): int(count)
        for article_id, helpful, count in db.execute(
            select(FaqFeedback.article_id, FaqFeedback.helpful, func.count()).group_by(
                FaqFeedback.article_id, FaqFeedback.helpful
            )
        )
    }
    rows = []
    for article in db.scalars(select(FaqArticle).order_by(FaqArticle.slug)):
        titles: dict[str, str] = {}
        for lang in LANGUAGES:
            latest = _latest(db, article.id, lang)
            titles[lang] = latest.title if latest else ""
        rows.append(
            ArticleRow(
                slug=article.slug,
                status=article.status,
                titles=titles,
                helpful=votes.get((article.id, True), 0),
                not_helpful=votes.get((article.id, False), 0),
                updated_at=article.updated_at,
            )
        )
    return rows


def current(db: Session, slug: str) -> tuple[FaqArticle, dict[str, FaqArticleVersion | None]]:
    article = _article(db, slug)
    return article, {lang: _latest(db, article.id, lang) for lang in LANGUAGES}


def _checked(texts: dict[str, Text]) -> dict[str, Text]:
    cleaned: dict[str, Text] = {}
    for lang in LANGUAGES:
        text = texts.get(lang, Text("", ""))
        title, body = text.title.strip(), text.body.strip()
        if not title or len(title) > TITLE_MAX:
            raise InvalidInput("title must be 1 to 200 characters", field=f"title_{lang}")
        if not body or len(body) > BODY_MAX:
            raise InvalidInput("body must be 1 to 20000 characters", field=f"body_{lang}")
        cleaned[lang] = Text(title, body)
    return cleaned


def create(db: Session, *, slug: str, texts: dict[str, Text], actor: audit.Actor) -> FaqArticle:
    """A new article, as a draft customers do not see until it is published."""
    slug = slug.strip().lower()
    if not SLUG.fullmatch(slug) or len(slug) > SLUG_LENGTH:
        raise InvalidInput("slug: lower-case letters, digits, - and _", field="slug")
    cleaned = _checked(texts)
    if db.scalar(select(FaqArticle.id).where(FaqArticle.slug == slug)) is not None:
        raise Conflict("an article with this address exists", field="slug")
    now = utcnow()
    article = FaqArticle(slug=slug, intent=None, status=DRAFT, created_at=now, updated_at=now)
    try:
        with db.begin_nested():
            db.add(article)
    except IntegrityError:
        raise Conflict("an article with this address exists", field="slug") from None
    for lang, text in cleaned.items():
        _add_version(db, article, lang=lang, title=text.title, body=text.body, edited_by=actor.name)
    audit.record(
        db,
        actor=actor,
        action="faq.create",
        after={"slug": slug, "status": DRAFT, "titles": {k: v.title for k, v in cleaned.items()}},
    )
    return article


def save(
    db: Session,
    *,
    slug: str,
    texts: dict[str, Text],
    expected: dict[str, int],
    actor: audit.Actor,
) -> list[str]:
    """Save both languages from the side-by-side editor: a language whose text changed gets
    a new version. ``expected`` holds the version each language had when the form was
    drawn; if another save came first, nothing is saved. Returns the languages saved."""
    article, latest = current(db, slug)
    for lang in LANGUAGES:
        newest = latest[lang]
        have = newest.version if newest is not None else 0
        if expected.get(lang) != have:
            raise StaleArticle("changed meanwhile", field="version", lang=lang, version=have)
    cleaned = _checked(texts)
    saved: list[str] = []
    for language, text in cleaned.items():
        before = latest[language]
        if before is not None and (before.title, before.body) == (text.title, text.body):
            continue
        version = _add_version(
            db, article, lang=language, title=text.title, body=text.body, edited_by=actor.name
        )
        audit.record(
            db,
            actor=actor,
            action="faq.edit",
            before={"slug": slug, "lang": language, "version": before.version if before else None,
                    "title": before.title if before else None},
            after={"slug": slug, "lang": language, "version": version.version,
                   "title": text.title},
        )  # fmt: skip
        saved.append(language)
    return saved


def set_published(db: Session, *, slug: str, published: bool, actor: audit.Actor) -> None:
    article = _article(db, slug)
    status = PUBLISHED if published else DRAFT
    if article.status == status:
        return
    before = article.status
    article.status = status
    article.updated_at = utcnow()
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="faq.publish" if published else "faq.unpublish",
        before={"slug": slug, "status": before},
        after={"slug": slug, "status": status},
    )


def versions(db: Session, *, slug: str, lang: str) -> list[FaqArticleVersion]:
    article = _article(db, slug)
    return list(
        db.scalars(
            select(FaqArticleVersion)
            .where(FaqArticleVersion.article_id == article.id, FaqArticleVersion.lang == lang)
            .order_by(FaqArticleVersion.version.desc())
        )
    )


def version(db: Session, *, slug: str, lang: str, number: int) -> FaqArticleVersion:
    article = _article(db, slug)
    found = db.scalar(
        select(FaqArticleVersion).where(
            FaqArticleVersion.article_id == article.id,
            FaqArticleVersion.lang == lang,
            FaqArticleVersion.version == number,
        )
    )
    if found is None:
        raise NotFound("no such version")
    return found


def diff(older: FaqArticleVersion | None, newer: FaqArticleVersion) -> list[DiffLine]:
    """What a version changed, line by line, title first."""
    before = [older.title, *older.body.split("\n")] if older else []
    after = [newer.title, *newer.body.split("\n")]
    lines = []
    for line in difflib.ndiff(before, after):
        marker, text = line[:2], line[2:]
        if marker == "? ":
            continue
        kind = {"+ ": "added", "- ": "removed"}.get(marker, "same")
        lines.append(DiffLine(kind, text))
    return lines


def restore(
    db: Session, *, slug: str, lang: str, number: int, expected: int, actor: audit.Actor
) -> FaqArticleVersion:
    """An old version's text becomes the newest version (history is never rewritten)."""
    article, latest = current(db, slug)
    newest = latest.get(lang)
    have = newest.version if newest is not None else 0
    if expected != have:
        raise StaleArticle("changed meanwhile", field="version", lang=lang, version=have)
    old = version(db, slug=slug, lang=lang, number=number)
    restored = _add_version(
        db, article, lang=lang, title=old.title, body=old.body, edited_by=actor.name
    )
    audit.record(
        db,
        actor=actor,
        action="faq.restore",
        before={"slug": slug, "lang": lang, "version": have},
        after={"slug": slug, "lang": lang, "version": restored.version, "restored": number},
    )
    return restored


def normalise_query(query: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", query).lower().split())[:QUERY_MAX]


def record_search(db: Session, *, query: str, lang: str, best_score: float | None) -> None:
    """Count a help-center search that found nothing or only poor answers."""
    if best_score is not None and best_score >= POOR_SCORE:
        return
    text = normalise_query(query)
    if not text:
        return
    now = utcnow()
    nothing = 1 if best_score is None else 0
    row = db.scalar(
        select(FaqSearchMiss)
        .where(FaqSearchMiss.lang == lang, FaqSearchMiss.query == text)
        .with_for_update()
    )
    if row is not None:
        row.searches += 1
        row.nothing_found += nothing
        row.last_at = now
        db.flush()
        return
    try:
        with db.begin_nested():
            db.add(
                FaqSearchMiss(
                    lang=lang, query=text, searches=1, nothing_found=nothing,
                    first_at=now, last_at=now,
                )
            )  # fmt: skip
    except IntegrityError:  # the same words searched at the same moment: count it there
        record_search(db, query=query, lang=lang, best_score=best_score)


def misses(db: Session, *, limit: int = 100) -> list[FaqSearchMiss]:
    """Unanswered searches, most searched first."""
    return list(
        db.scalars(
            select(FaqSearchMiss)
            .where(FaqSearchMiss.answered_by.is_(None))
            .order_by(FaqSearchMiss.searches.desc(), FaqSearchMiss.last_at.desc())
            .limit(limit)
        )
    )


def mark_answered(db: Session, *, query: str, lang: str, slug: str) -> None:
    """The article written for a missed search: the search leaves the list."""
    row = db.scalar(
        select(FaqSearchMiss).where(
            FaqSearchMiss.lang == lang, FaqSearchMiss.query == normalise_query(query)
        )
    )
    if row is not None:
        row.answered_by = slug
        db.flush()
