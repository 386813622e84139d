"""Signing staff in through the console's login form, for the admin pages' browser tests."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from tests.factories import STAFF_PASSWORD
from tests.web.conftest import LiveServer

from kefu.identity import service as identity_service


def make_and_sign_in(
    server: LiveServer, page: Page, *, username: str, role: str, display_name: str
) -> None:
    with server.sessions() as db:
        identity_service.create_staff(
            db, username=username, password=STAFF_PASSWORD, role=role, display_name=display_name
        )
        db.commit()
    sign_in(server, page, username)


def sign_in(server: LiveServer, page: Page, username: str, password: str = STAFF_PASSWORD) -> None:
    page.goto(f"{server.url}/console/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{server.url}/console")
