"""The public help center pages: FAQ search and articles, contact us from the official
channel registry, "is this number really yours?", in Chinese by default and English."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from kefu import audit
from kefu.antifraud import registry
from kefu.antifraud import service as antifraud_service
from kefu.kb import service as kb_service


def _seed(db: Session) -> None:
    kb_service.load_shipped_articles(db)
    antifraud_service.seed_demo(db)
    db.commit()


def test_the_root_leads_to_the_help_center(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.headers["location"] == "/help"


def test_every_page_names_the_icon_and_the_old_address_finds_it(client: TestClient) -> None:
    assert '<link rel="icon" href="/static/favicon.svg"' in client.get("/help").text
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    assert icon.text.startswith("<svg")


def test_home_in_chinese_then_english(client: TestClient, db: Session) -> None:
    _seed(db)
    home = client.get("/help", headers={"Accept-Language": "zh-CN"})
    assert home.status_code == 200
    assert '<html lang="zh-CN">' in home.text
    assert "您好，有什么可以帮您？" in home.text
    assert "充值已扣款但余额没到账" in home.text  # a top problem, from the FAQ
    assert 'href="tel:95099"' in home.text  # the hotline, from the registry
    assert "7×24 小时" in home.text
    assert "kefu_help_csrf=" in home.headers["set-cookie"]
    english = client.get("/help?lang=en")
    assert "Hello, how can we help?" in english.text
    assert "My top-up was paid but my balance did not increase" in english.text
    assert "24 hours a day" in english.text


def test_contact_us_follows_the_registry(client: TestClient, db: Session) -> None:
    assert "官方渠道信息暂未配置" in client.get("/help/contact?lang=zh-CN").text
    registry.load_entries(
        db,
        [
            {
                "kind": "phone",
                "role": "hotline",
                "value": "95188",
                "label_zh": "新热线",
                "label_en": "New hotline",
                "toll_free": True,
            }
        ],
        actor=audit.Actor.system(),
    )
    db.commit()
    page = client.get("/help/contact?lang=zh-CN")
    assert "新热线" in page.text and 'href="tel:95188"' in page.text
    assert "免费" in page.text


def test_search_without_javascript(client: TestClient, db: Session) -> None:
    _seed(db)
    found = client.get("/help/search", params={"q": "充值没到账", "lang": "zh-CN"})
    assert found.status_code == 200
    assert "/help/articles/recharge_not_credited" in found.text
    nothing = client.get("/help/search", params={"q": "天气预报", "lang": "zh-CN"})
    assert "没有找到相关问题" in nothing.text


def test_article_page_and_unknown_article(client: TestClient, db: Session) -> None:
    _seed(db)
    page = client.get("/help/articles/account_locked?lang=zh-CN")
    assert page.status_code == 200
    assert 'data-slug="account_locked"' in page.text
    assert "这篇文章对您有帮助吗？" in page.text
    missing = client.get("/help/articles/no_such_thing")
    assert missing.status_code == 404
    assert 'role="alert"' in missing.text


def test_verify_page_gives_verdict_reason_and_advice(client: TestClient, db: Session) -> None:
    _seed(db)
    official = client.get("/help/verify", params={"value": "95099", "lang": "zh-CN"})
    assert official.status_code == 200
    assert "verdict-official" in official.text
    scam = client.get("/help/verify", params={"value": "kefu-wallet-refund.com", "lang": "zh-CN"})
    assert "verdict-reported_scam" in scam.text
    nonsense = client.get("/help/verify", params={"value": "???", "lang": "zh-CN"})
    assert nonsense.status_code == 422
    assert "无法识别" in nonsense.text
    empty = client.get("/help/verify", params={"value": " "}, follow_redirects=False)
    assert empty.headers["location"] == "/help#verify"
