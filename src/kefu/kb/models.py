"""FAQ tables: an article's text lives only in versions, so every edit is kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db import Base, UtcDateTime

SLUG_LENGTH = 60


class FaqArticle(Base):
    __tablename__ = "faq_article"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(SLUG_LENGTH), unique=True)
    intent: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class FaqArticleVersion(Base):
    """The current text of a language is its highest version number."""

    __tablename__ = "faq_article_version"
    __table_args__ = (UniqueConstraint("article_id", "lang", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("faq_article.id"))
    lang: Mapped[str] = mapped_column(String(8))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    edited_by: Mapped[str] = mapped_column(String(80))
    edited_at: Mapped[datetime] = mapped_column(UtcDateTime())


class FaqFeedback(Base):
    """One vote per client and article: ``client_hash`` is an HMAC of the client's key, so
    the table does not keep addresses; a vote without a key is always counted."""

    __tablename__ = "faq_feedback"
    __table_args__ = (
        UniqueConstraint("article_id", "client_hash"),
        Index("ix_faq_feedback_article_id_helpful", "article_id", "helpful"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("faq_article.id"))
    lang: Mapped[str] = mapped_column(String(8))
    helpful: Mapped[bool] = mapped_column(Boolean)
    client_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class FaqSearchMiss(Base):
    """A help-center search that found nothing (``found == 0``) or only poor answers,
    counted per normalised query and language, so an admin sees what customers looked
    for and did not find. Only the query's words are kept, never who asked."""

    __tablename__ = "faq_search_miss"
    __table_args__ = (UniqueConstraint("lang", "query"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lang: Mapped[str] = mapped_column(String(8))
    query: Mapped[str] = mapped_column(String(100))
    searches: Mapped[int] = mapped_column(Integer)
    nothing_found: Mapped[int] = mapped_column(Integer)  # of them, how many found nothing
    first_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    answered_by: Mapped[str | None] = mapped_column(String(SLUG_LENGTH))  # article written
