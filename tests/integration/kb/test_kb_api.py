"""The FAQ API: shipped articles, Chinese and English search, edits with history and audit,
"did this help?" votes once per client, and who may do what."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import staff_token

from kefu.audit import AuditEvent
from kefu.bot.nlu.intents import INTENTS
from kefu.kb import service


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def loaded(db: Session) -> None:
    assert service.load_shipped_articles(db) == len(INTENTS)
    db.commit()


def test_loading_is_idempotent_and_keeps_edits(db: Session, loaded: None) -> None:
    from kefu import audit

    service.edit_article(
        db,
        slug="refund",
        lang="en",
        title="Refunds",
        body="Edited text.",
        actor=audit.Actor(name="staff:admin", role="admin"),
    )
    assert service.load_shipped_articles(db) == 0
    assert service.get_article(db, slug="refund", lang="en").body == "Edited text."


def test_list_in_both_languages(client: TestClient, loaded: None) -> None:
    zh = client.get("/api/v1/faq", params={"lang": "zh-CN"}).json()
    en = client.get("/api/v1/faq", params={"lang": "en"}).json()
    assert len(zh) == len(en) == len(INTENTS)
    assert {a["slug"] for a in zh} == set(INTENTS)
    by_slug = {a["slug"]: a for a in zh}
    assert "充值" in by_slug["recharge_not_credited"]["title"]
    assert all(a["lang"] == "en" and a["version"] == 1 for a in en)


def test_language_follows_accept_language_when_not_given(client: TestClient, loaded: None) -> None:
    response = client.get("/api/v1/faq/refund", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert response.json()["lang"] == "en"


@pytest.mark.parametrize(
    ("query", "expected"),
    [("充值没到账", "recharge_not_credited"), ("退款", "refund"), ("冒充客服", "scam_report")],
)
def test_chinese_search(client: TestClient, loaded: None, query: str, expected: str) -> None:
    hits = client.get("/api/v1/faq", params={"lang": "zh-CN", "q": query}).json()
    assert hits, query
    assert hits[0]["slug"] == expected
    assert all(hit["lang"] == "zh-CN" for hit in hits)


def test_english_search(client: TestClient, loaded: None) -> None:
    hits = client.get("/api/v1/faq", params={"lang": "en", "q": "top-up not credited"}).json()
    assert "recharge_not_credited" in [hit["slug"] for hit in hits[:3]]
    assert all(hit["lang"] == "en" for hit in hits)


def test_search_finds_nothing_for_unrelated_words(client: TestClient, loaded: None) -> None:
    hits = client.get("/api/v1/faq", params={"lang": "zh-CN", "q": "恐龙化石"}).json()
    assert hits == []


def test_admin_edit_adds_a_version_an_audit_row_and_reindexes(
    client: TestClient, db: Session, loaded: None
) -> None:
    admin = _auth(staff_token(client, db, "admin"))
    response = client.put(
        "/api/v1/faq/refund/zh-CN",
        json={
            "title": "退款说明（新版）",
            "body": "退款一般在七个工作日内原路退回。见“联系我们”。",
        },
        headers=admin,
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2
    current = client.get("/api/v1/faq/refund", params={"lang": "zh-CN"}).json()
    assert current["title"] == "退款说明（新版）"
    assert client.get("/api/v1/faq/refund", params={"lang": "en"}).json()["version"] == 1

    rows = db.scalars(select(AuditEvent).where(AuditEvent.action == "faq.edit")).all()
    assert len(rows) == 1
    assert rows[0].actor.startswith("staff:")

    history = client.get("/api/v1/faq/refund/history", headers=admin).json()
    zh_versions = [(v["version"], v["edited_by"]) for v in history if v["lang"] == "zh-CN"]
    assert zh_versions[0][0] == 2 and zh_versions[0][1].startswith("staff:")
    assert zh_versions[1] == (1, "system")

    hits = client.get("/api/v1/faq", params={"lang": "zh-CN", "q": "七个工作日"}).json()
    assert hits[0]["slug"] == "refund"


def test_edit_rejects_empty_text_and_bad_language(
    client: TestClient, db: Session, loaded: None
) -> None:
    admin = _auth(staff_token(client, db, "admin"))
    empty = client.put("/api/v1/faq/refund/en", json={"title": " ", "body": "x"}, headers=admin)
    assert empty.status_code == 400
    assert empty.json()["error"]["code"] == "invalid_input"
    no_body = client.put("/api/v1/faq/refund/en", json={"title": "t", "body": ""}, headers=admin)
    assert no_body.status_code == 400
    bad_lang = client.put("/api/v1/faq/refund/fr", json={"title": "t", "body": "b"}, headers=admin)
    assert bad_lang.status_code == 400
    unknown = client.put("/api/v1/faq/nope/en", json={"title": "t", "body": "b"}, headers=admin)
    assert unknown.status_code == 404
    assert len(service.history(db, slug="refund")) == 2


def test_feedback_counts_once_per_client(client: TestClient, db: Session, loaded: None) -> None:
    url = "/api/v1/faq/recharge_not_credited/feedback"
    first = client.post(url, json={"helpful": True, "lang": "zh-CN"})
    assert first.status_code == 200, first.text
    assert first.json() == {"helpful": 1, "not_helpful": 0}
    again = client.post(url, json={"helpful": True, "lang": "zh-CN"})
    assert again.json() == {"helpful": 1, "not_helpful": 0}
    changed = client.post(url, json={"helpful": False, "lang": "en"})
    assert changed.json() == {"helpful": 0, "not_helpful": 1}

    service.record_feedback(
        db, slug="recharge_not_credited", lang="en", helpful=True, client_key="10.0.0.9", secret="s"
    )
    agent = _auth(staff_token(client, db, "agent"))
    counts = client.get(url, headers=agent)
    assert counts.status_code == 200
    assert counts.json() == {"helpful": 1, "not_helpful": 1}
    assert client.get("/api/v1/faq/refund/feedback", headers=agent).json() == {
        "helpful": 0,
        "not_helpful": 0,
    }


def test_feedback_is_rate_limited_per_client(client: TestClient, loaded: None) -> None:
    statuses = [
        client.post(
            f"/api/v1/faq/{slug}/feedback", json={"helpful": True, "lang": "en"}
        ).status_code
        for slug in INTENTS
        for _ in range(2)
    ]
    assert statuses[:30] == [200] * 30
    assert statuses[-1] == 429


def test_feedback_rejects_unknown_article_and_language(client: TestClient, loaded: None) -> None:
    assert (
        client.post("/api/v1/faq/nope/feedback", json={"helpful": True, "lang": "en"}).status_code
        == 404
    )
    bad = client.post("/api/v1/faq/refund/feedback", json={"helpful": True, "lang": "de"})
    assert bad.status_code == 400
    missing = client.post("/api/v1/faq/refund/feedback", json={"lang": "en"})
    assert missing.status_code == 422


def test_public_reads_404_and_bad_language(client: TestClient, loaded: None) -> None:
    assert client.get("/api/v1/faq/nope").status_code == 404
    assert client.get("/api/v1/faq/refund", params={"lang": "fr"}).status_code == 400
    assert client.get("/api/v1/faq", params={"lang": "fr"}).status_code == 400


def test_permissions(client: TestClient, db: Session, loaded: None) -> None:
    body = {"title": "t", "body": "b"}
    assert client.put("/api/v1/faq/refund/en", json=body).status_code == 401
    assert client.get("/api/v1/faq/refund/history").status_code == 401
    assert client.get("/api/v1/faq/refund/feedback").status_code == 401
    for role in ("agent", "specialist", "supervisor"):
        headers = _auth(staff_token(client, db, role))
        assert client.put("/api/v1/faq/refund/en", json=body, headers=headers).status_code == 403
        assert client.get("/api/v1/faq/refund/history", headers=headers).status_code == 403
        assert client.get("/api/v1/faq/refund/feedback", headers=headers).status_code == 200
    admin = _auth(staff_token(client, db, "admin"))
    assert client.get("/api/v1/faq/nope/history", headers=admin).status_code == 404
