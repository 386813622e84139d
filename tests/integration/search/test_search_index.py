from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.errors import InvalidInput
from kefu.search import service as search_service
from kefu.search.models import SearchDocument, SearchKindStat, SearchPosting, SearchTermStat
from kefu.search.schemas import SearchText

CASES = {
    "KF-1": ("充值没到账", "我昨天晚上充值了100.50元，到现在还没到账，请帮忙查一下"),
    "KF-2": ("提现失败", "提现到银行卡一直失败，尾号6228"),
    "KF-3": ("app闪退", "更新以后app闪退，打不开"),
    "KF-4": ("Refund not received", "My refunds have not arrived, refund没到账"),
    "KF-5": ("账户被锁定", "输错密码后账户被锁定了"),
}


@pytest.fixture
def cases(db: Session) -> None:
    for ref, (title, body) in CASES.items():
        search_service.index_document(db, kind="case", ref=ref, title=title, body=body)


def refs(db: Session, query: str, kind: str = "case") -> list[str]:
    return [hit.ref for hit in search_service.search(db, kind=kind, query=query)]


@pytest.mark.usefixtures("cases")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("提现", ["KF-2"]),
        ("到账", ["KF-1", "KF-4"]),
        ("提現", ["KF-2"]),
        ("帳戶被鎖定", ["KF-5"]),
        ("ａｐｐ闪退", ["KF-3"]),
        ("refund没到账", ["KF-4"]),
        ("REFUNDS", ["KF-4"]),
        ("６２２８", ["KF-2"]),
        ("100.5", ["KF-1"]),
        ("还没有到账", ["KF-1"]),
    ],
)
def test_finds_chinese_english_and_numbers(db: Session, query: str, expected: list[str]) -> None:
    assert sorted(refs(db, query)) == expected


@pytest.mark.usefixtures("cases")
@pytest.mark.parametrize("query", ["", "   ", "😀🎉", "退款", "transfer", "提现 transfer"])
def test_no_match_returns_nothing(db: Session, query: str) -> None:
    assert refs(db, query) == []


@pytest.mark.usefixtures("cases")
def test_huge_query_is_invalid_input(db: Session) -> None:
    with pytest.raises(InvalidInput):
        search_service.search(db, kind="case", query="退款" * 200)


def test_title_and_repetition_rank_higher(db: Session) -> None:
    search_service.index_document(db, kind="case", ref="body", title="问题", body="用户想要退款")
    search_service.index_document(db, kind="case", ref="title", title="退款", body="用户的问题")
    search_service.index_document(
        db, kind="case", ref="twice", title="问题", body="退款退款，还是退款"
    )
    assert refs(db, "退款") == ["title", "twice", "body"]


@pytest.mark.usefixtures("cases")
def test_kind_filter(db: Session) -> None:
    search_service.index_document(db, kind="faq", ref="faq-1", title="如何提现", body="提现步骤")
    assert refs(db, "提现", kind="faq") == ["faq-1"]
    assert refs(db, "提现", kind="case") == ["KF-2"]
    assert refs(db, "提现", kind="nothing") == []


@pytest.mark.usefixtures("cases")
def test_refs_within_narrows_the_results(db: Session) -> None:
    hits = search_service.search(db, kind="case", query="到账", refs_within=["KF-4", "KF-9"])
    assert [hit.ref for hit in hits] == ["KF-4"]
    assert search_service.search(db, kind="case", query="到账", refs_within=[]) == []
    chosen = select(SearchDocument.ref).where(SearchDocument.ref.in_(["KF-1", "KF-2"]))
    hits = search_service.search(db, kind="case", query="到账", refs_within=chosen)
    assert [hit.ref for hit in hits] == ["KF-1"]


@pytest.mark.usefixtures("cases")
def test_reindex_replaces_old_text(db: Session) -> None:
    search_service.index_document(db, kind="case", ref="KF-2", title="退款", body="已经退款")
    assert refs(db, "提现") == []
    assert refs(db, "退款") == ["KF-2"]
    postings = db.scalars(select(SearchPosting.token).where(SearchPosting.token == "提现")).all()
    assert postings == []
    assert db.get(SearchTermStat, ("case", "提现")) is None
    stats = db.get(SearchKindStat, "case")
    assert stats is not None and stats.documents == len(CASES)


@pytest.mark.usefixtures("cases")
def test_remove_document(db: Session) -> None:
    assert search_service.remove_document(db, kind="case", ref="KF-2") is True
    assert search_service.remove_document(db, kind="case", ref="KF-2") is False
    assert refs(db, "提现") == []
    stats = db.get(SearchKindStat, "case")
    assert stats is not None and stats.documents == len(CASES) - 1


def test_index_many_bulk_and_paging(db: Session) -> None:
    search_service.index_many(
        db,
        [
            SearchText(kind="case", ref=f"B-{n}", title=f"第{n}号", body="转账未到账 " * (n + 1))
            for n in range(30)
        ],
    )
    first = search_service.search(db, kind="case", query="转账", limit=10)
    second = search_service.search(db, kind="case", query="转账", limit=10, offset=10)
    assert len(first) == len(second) == 10
    assert not {hit.ref for hit in first} & {hit.ref for hit in second}
    assert first[0].score >= first[-1].score >= second[0].score


@pytest.mark.usefixtures("cases")
def test_snippet_is_around_the_match_and_masks_card_numbers(db: Session) -> None:
    body = "客户描述：" + "前情提要" * 20 + "卡号6222021234567890的退款一直没到"
    search_service.index_document(db, kind="case", ref="KF-6", title="退款", body=body)
    (hit,) = search_service.search(db, kind="case", query="6222021234567890")
    assert "6222021234567890" not in hit.snippet
    (hit,) = search_service.search(db, kind="case", query="退款")
    assert hit.snippet.startswith("…") and "7890" in hit.snippet
    assert "6222021234567890" not in hit.snippet


def test_bad_arguments_are_invalid_input(db: Session) -> None:
    with pytest.raises(InvalidInput):
        search_service.search(db, kind="case", query="退款", limit=0)
    with pytest.raises(InvalidInput):
        search_service.index_document(db, kind="case", ref="", title="t", body="b")


def _index_state(db: Session, kind: str) -> tuple[object, ...]:
    """Everything the index holds for ``kind``, with documents named by their refs."""
    ref_of = dict(
        db.execute(
            select(SearchDocument.id, SearchDocument.ref).where(SearchDocument.kind == kind)
        ).all()
    )
    documents = sorted(
        tuple(row)
        for row in db.execute(
            select(
                SearchDocument.ref, SearchDocument.title, SearchDocument.body, SearchDocument.length
            ).where(SearchDocument.kind == kind)
        )
    )
    postings = sorted(
        (token, ref_of[document_id], tf, length)
        for token, document_id, tf, length in db.execute(
            select(
                SearchPosting.token,
                SearchPosting.document_id,
                SearchPosting.tf,
                SearchPosting.length,
            ).where(SearchPosting.kind == kind)
        )
    )
    terms = sorted(
        tuple(row)
        for row in db.execute(
            select(SearchTermStat.token, SearchTermStat.documents).where(
                SearchTermStat.kind == kind
            )
        )
    )
    stats = db.get(SearchKindStat, kind)
    assert stats is not None
    return documents, postings, terms, (stats.documents, stats.total_length)


def _hits(db: Session, kind: str, query: str) -> list[tuple[str, float]]:
    return [(hit.ref, hit.score) for hit in search_service.search(db, kind=kind, query=query)]


def test_a_batch_indexes_what_one_document_at_a_time_does(db: Session) -> None:
    texts = [*CASES.items(), ("KF-2", ("提现失败了", "还是提现失败")), ("KF-6", ("退款", "没到账"))]
    for ref, (title, body) in texts:
        search_service.index_document(db, kind="alone", ref=ref, title=title, body=body)
    with search_service.batched(db):
        for ref, (title, body) in texts:
            search_service.index_document(db, kind="batch", ref=ref, title=title, body=body)
        assert refs(db, "到账", kind="batch") == []  # indexed when the batch ends
    assert _index_state(db, "batch") == _index_state(db, "alone")
    for query in ("到账", "提现", "refund没到账", "退款"):
        assert _hits(db, "batch", query) == _hits(db, "alone", query)


def test_a_removal_in_a_batch_comes_after_what_was_indexed_before_it(db: Session) -> None:
    with search_service.batched(db):
        search_service.index_document(db, kind="case", ref="KF-1", title="提现", body="提现失败")
        search_service.index_document(db, kind="case", ref="KF-2", title="提现", body="没到账")
        assert search_service.remove_document(db, kind="case", ref="KF-1") is True
    assert refs(db, "提现") == ["KF-2"]
    stats = db.get(SearchKindStat, "case")
    assert stats is not None and stats.documents == 1
