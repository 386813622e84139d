"""Knowledge-base administration: drafts customers cannot see until published, the
side-by-side save refused on a stale copy with nothing saved, version diffs and restore,
the Markdown renderer's sanitising, and the help-center searches that found nothing,
counted and answered by a new article."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import make_staff
from tests.integration.identity.test_staff_admin import sign_in

from kefu.kb import admin, render
from kefu.kb import service as kb_service
from kefu.kb.models import FaqArticleVersion, FaqSearchMiss


@pytest.fixture
def csrf(client: TestClient, db: Session) -> str:
    kb_service.load_shipped_articles(db)
    admin_user = make_staff(db, "admin")
    db.commit()
    return sign_in(client, admin_user.username)


def _article_form(csrf: str, **fields: str) -> dict[str, str]:
    return {
        "slug": "card-binding",
        "title_zh-CN": "怎么绑定银行卡",
        "body_zh-CN": "怎么做：打开 **我的** → 银行卡 → 添加。",
        "title_en": "How to add a bank card",
        "body_en": "What to do: open **Me** → Bank cards → Add.",
        "csrf_token": csrf,
        **fields,
    }


def test_a_new_article_is_a_draft_until_published(client: TestClient, csrf: str) -> None:
    created = client.post("/console/kb", data=_article_form(csrf), follow_redirects=False)
    assert created.status_code == 303
    assert client.get("/help/articles/card-binding").status_code == 404
    published = client.post("/console/kb/card-binding/publish", data={"csrf_token": csrf})
    assert published.status_code == 200
    page = client.get("/help/articles/card-binding?lang=zh-CN")
    assert page.status_code == 200
    assert "<strong>我的</strong>" in page.text and "<strong>怎么做：</strong>" in page.text
    client.post("/console/kb/card-binding/unpublish", data={"csrf_token": csrf})
    assert client.get("/help/articles/card-binding").status_code == 404


def test_bad_input_is_refused_in_the_form_and_nothing_saved(
    client: TestClient, db: Session, csrf: str
) -> None:
    no_title = client.post("/console/kb", data=_article_form(csrf, **{"title_en": " "}))
    assert no_title.status_code == 400 and "请填写标题" in no_title.text
    assert "怎么绑定银行卡" in no_title.text  # what was typed stays
    taken = client.post("/console/kb", data=_article_form(csrf, slug="refund"))
    assert taken.status_code == 409 and "已有文章使用这个地址" in taken.text
    bad = client.post("/console/kb", data=_article_form(csrf, slug="银行卡"))
    assert bad.status_code == 400
    assert admin.list_articles(db) == admin.list_articles(db)
    assert "card-binding" not in {row.slug for row in admin.list_articles(db)}


def test_a_save_on_a_stale_copy_is_refused(client: TestClient, db: Session, csrf: str) -> None:
    form = client.get("/console/kb/refund").text
    assert 'name="version_zh-CN" value="1"' in form
    first = {
        "title_zh-CN": "退款多久到账",
        "body_zh-CN": "一般 1–3 个工作日。",
        "title_en": "When does a refund arrive",
        "body_en": "Usually 1–3 working days.",
        "version_zh-CN": "1",
        "version_en": "1",
        "csrf_token": csrf,
    }
    assert client.post("/console/kb/refund", data=first).status_code == 200
    stale = client.post("/console/kb/refund", data={**first, "body_zh-CN": "当天到账。"})
    assert stale.status_code == 409
    assert "有人保存了这篇文章" in stale.text and "当天到账" in stale.text
    versions = admin.versions(db, slug="refund", lang="zh-CN")
    assert [v.version for v in versions] == [2, 1]
    assert versions[0].body == "一般 1–3 个工作日。"


def test_history_shows_the_diff_and_restores(client: TestClient, db: Session, csrf: str) -> None:
    original = admin.versions(db, slug="refund", lang="en")[0]
    client.post(
        "/console/kb/refund",
        data={
            "title_zh-CN": admin.versions(db, slug="refund", lang="zh-CN")[0].title,
            "body_zh-CN": admin.versions(db, slug="refund", lang="zh-CN")[0].body,
            "title_en": "Refunds",
            "body_en": "A new line only.",
            "version_zh-CN": "1",
            "version_en": "1",
            "csrf_token": csrf,
        },
    )
    page = client.get("/console/kb/refund/history/en?v=2")
    assert "<ins>" in page.text and "A new line only." in page.text and "<del>" in page.text
    restored = client.post(
        "/console/kb/refund/history/en/restore",
        data={"version": "1", "latest": "2", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert restored.status_code == 303
    newest = admin.versions(db, slug="refund", lang="en")[0]
    assert (newest.version, newest.body) == (3, original.body)
    stale = client.post(
        "/console/kb/refund/history/en/restore",
        data={"version": "2", "latest": "2", "csrf_token": csrf},
        follow_redirects=True,
    )
    assert "有人保存了这篇文章" in stale.text
    assert db.scalar(select(FaqArticleVersion.version).order_by(FaqArticleVersion.id.desc())) == 3


def test_the_renderer_keeps_no_script() -> None:
    html = str(
        render.to_html(
            "<script>alert(1)</script>\n\n[x](javascript:alert(1)) "
            '<img src=x onerror="alert(1)"> [ok](https://kefu-wallet.com.cn)'
        )
    )
    assert "<script" not in html and "<img" not in html  # shown as text, never as tags
    assert 'href="javascript' not in html and "&lt;script&gt;" in html
    assert '<a href="https://kefu-wallet.com.cn"' in html


def test_searches_that_found_nothing_are_counted_and_answered(
    client: TestClient, db: Session, csrf: str
) -> None:
    for _ in range(3):  # only weak answers: the assistant does not know the topic
        client.get("/help/search", params={"q": "  数字人民币 ", "lang": "zh-CN"})
    client.get("/help/search", params={"q": "Weather  tomorrow", "lang": "en"})  # nothing
    client.get("/help/search", params={"q": "退钱", "lang": "zh-CN"})  # answered well
    weak = db.scalar(select(FaqSearchMiss).where(FaqSearchMiss.query == "数字人民币"))
    assert weak is not None and (weak.searches, weak.nothing_found) == (3, 0)
    nothing = db.scalar(select(FaqSearchMiss).where(FaqSearchMiss.query == "weather tomorrow"))
    assert nothing is not None and (nothing.lang, nothing.nothing_found) == ("en", 1)
    assert db.scalar(select(FaqSearchMiss).where(FaqSearchMiss.query == "退钱")) is None
    listed = client.get("/console/kb/misses").text
    assert listed.index("数字人民币") < listed.index("weather tomorrow")  # most searched first
    link = "/console/kb/new?q=%E6%95%B0%E5%AD%97%E4%BA%BA%E6%B0%91%E5%B8%81&amp;lang=zh-CN"
    assert link in listed
    editor = client.get(link.replace("&amp;", "&"))
    assert 'name="query" value="数字人民币"' in editor.text
    written = client.post(
        "/console/kb",
        data=_article_form(csrf, slug="e-cny", query="数字人民币", **{"query_lang": "zh-CN"}),
        follow_redirects=False,
    )
    assert written.status_code == 303
    assert "数字人民币" not in client.get("/console/kb/misses").text


def test_the_preview_is_the_help_centers_renderer(client: TestClient, csrf: str) -> None:
    response = client.post(
        "/console/kb/preview",
        data={"body": "**粗体** <b>x</b>"},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 200
    assert response.text == str(render.to_html("**粗体** <b>x</b>"))
    assert "<strong>粗体</strong>" in response.text and "<b>" not in response.text


def test_agents_may_not_edit_articles(client: TestClient, db: Session) -> None:
    agent = make_staff(db, "agent")
    db.commit()
    sign_in(client, agent.username)
    page = client.get("/console/kb")
    assert page.status_code == 403 and "没有权限" in page.text
