"""Tables of the text search index shared by cases, the FAQ and the console.

Neither SQLite's FTS5 (its trigram tokenizer misses two-character words such as 提现) nor
PostgreSQL's zhparser (not in Debian) serve Chinese on both databases, so Kefu keeps its
own inverted index in ordinary tables: the same rows, indexes and queries on both.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db import Base, UtcDateTime

KIND_LENGTH = 16
TOKEN_LENGTH = 64
REF_LENGTH = 64


class SearchDocument(Base):
    """One searchable thing (a case, an FAQ entry), keyed by its owner's reference.

    The body is kept so that hits can show an excerpt without asking the owner's domain.
    """

    __tablename__ = "search_document"
    __table_args__ = (UniqueConstraint("kind", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(KIND_LENGTH))
    ref: Mapped[str] = mapped_column(String(REF_LENGTH))
    lang: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    length: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SearchPosting(Base):
    """One token of one document.

    The primary key starts with (kind, token) so a query reads only the postings of its own
    tokens, newest documents first; ``length`` is copied from the document so BM25 needs
    no join. On SQLite the table has no rowid: the key is the table, which halves its size.
    """

    __tablename__ = "search_posting"
    __table_args__ = (
        Index("ix_search_posting_document_id", "document_id"),
        {"sqlite_with_rowid": False},
    )

    kind: Mapped[str] = mapped_column(String(KIND_LENGTH), primary_key=True)
    token: Mapped[str] = mapped_column(String(TOKEN_LENGTH), primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("search_document.id", ondelete="CASCADE"),
        primary_key=True,
    )
    tf: Mapped[int] = mapped_column(Integer)
    length: Mapped[int] = mapped_column(Integer)


class SearchTermStat(Base):
    """How many documents of a kind hold a token: BM25's idf without counting postings."""

    __tablename__ = "search_term_stat"

    kind: Mapped[str] = mapped_column(String(KIND_LENGTH), primary_key=True)
    token: Mapped[str] = mapped_column(String(TOKEN_LENGTH), primary_key=True)
    documents: Mapped[int] = mapped_column(Integer)


class SearchKindStat(Base):
    """Document count and total token count per kind, for idf and the average length."""

    __tablename__ = "search_kind_stat"

    kind: Mapped[str] = mapped_column(String(KIND_LENGTH), primary_key=True)
    documents: Mapped[int] = mapped_column(BigInteger)
    total_length: Mapped[int] = mapped_column(BigInteger)
