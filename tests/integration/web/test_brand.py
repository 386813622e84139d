"""The agent console names itself as the console (Kefu 坐席工作台 / Kefu agent console) in its
top bar and page titles, in both languages; the customers' help center keeps its own name."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import make_staff
from tests.integration.web.web_helpers import sign_in

CONSOLE = {"zh-CN": "Kefu 坐席工作台", "en": "Kefu agent console"}
HELP_CENTER = {"zh-CN": "Kefu 客服中心", "en": "Kefu Help Center"}


def brand_and_title(page: str) -> tuple[str, str]:
    brand = re.search(r'<a class="brand" href="[^"]*">([^<]*)</a>', page)
    title = re.search(r"<title>([^<]*)</title>", page)
    assert brand and title, page
    return brand.group(1), title.group(1)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_console_is_named_the_console(client: TestClient, db: Session, lang: str) -> None:
    brand, title = brand_and_title(client.get("/console/login", params={"lang": lang}).text)
    assert brand == CONSOLE[lang] and title.endswith(f" · {CONSOLE[lang]}")
    assert title.startswith({"zh-CN": "坐席工作台登录", "en": "Agent console sign-in"}[lang])

    agent = make_staff(db)
    db.commit()
    sign_in(client, agent.username)
    brand, title = brand_and_title(client.get("/console").text)
    assert brand == title == CONSOLE[lang]  # the home: the console itself
    for path in ("/console/inbox", "/console/no-such-page"):
        brand, title = brand_and_title(client.get(path).text)
        assert brand == CONSOLE[lang], path
        assert title.endswith(f" · {CONSOLE[lang]}"), (path, title)
        assert HELP_CENTER[lang] not in title


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_help_center_keeps_its_name(client: TestClient, lang: str) -> None:
    for path in ("/help", "/help/contact", "/help/no-such-page"):
        brand, title = brand_and_title(client.get(path, params={"lang": lang}).text)
        assert brand == HELP_CENTER[lang], path
        assert title.endswith(f" · {HELP_CENTER[lang]}"), (path, title)
