"""Staff administration and two-step sign-in in a browser: an admin invites, the invited
person sets their password through the mailed link, turns on two-step sign-in and signs in
with the app's code; an agent gets the 403 page."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pyotp
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from tests.web.conftest import LiveServer, screenshot
from tests.web.staff_login import make_and_sign_in

from kefu.channels.models import OutboxMessage
from kefu.db import utcnow


def _mailed_link(server: LiveServer, address: str) -> str:
    with server.sessions() as db:
        mail = db.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.destination == address)
            .order_by(OutboxMessage.id.desc())
        ).first()
        assert mail is not None
        found = re.search(r"/console/set-password/[A-Za-z0-9_-]+", mail.body)
        assert found
        return found.group(0)


def test_invite_set_password_and_two_step_sign_in(
    live_server: LiveServer, browser: Browser
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    make_and_sign_in(live_server, page, username="boss", role="admin", display_name="管理员 周")
    page.get_by_text("管理", exact=True).click()
    page.get_by_role("link", name="员工").click()
    expect(page.get_by_role("heading", name="员工", exact=True)).to_be_visible()
    invite = page.get_by_role("region", name="邀请新员工")
    invite.get_by_label("用户名").fill("lina")
    invite.get_by_label("姓名").fill("主管 李娜")
    invite.get_by_label("邮箱").fill("lina@kefu-wallet.com.cn")
    invite.get_by_label("角色").select_option("supervisor")
    invite.get_by_role("button", name="发送邀请").click()
    expect(page.get_by_role("status")).to_contain_text("lina@kefu-wallet.com.cn")
    # the same address again: the reason in the form, what was typed kept
    invite = page.get_by_role("region", name="邀请新员工")
    invite.get_by_label("用户名").fill("lina2")
    invite.get_by_label("姓名").fill("李娜")
    invite.get_by_label("邮箱").fill("lina@kefu-wallet.com.cn")
    invite.get_by_role("button", name="发送邀请").click()
    expect(page.get_by_role("alert")).to_contain_text("这个邮箱已被另一位员工使用")
    expect(page.get_by_role("region", name="邀请新员工").get_by_label("用户名")).to_have_value(
        "lina2"
    )
    screenshot(page, "staff-list-admin-desktop")
    page.get_by_role("link", name="主管 李娜").click()
    expect(page.get_by_role("heading", name=re.compile("主管 李娜"))).to_be_visible()
    screenshot(page, "staff-person-admin-desktop")
    context.close()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = phone.new_page()
    page.goto(live_server.url + _mailed_link(live_server, "lina@kefu-wallet.com.cn"))
    expect(page.get_by_role("heading", name="设置密码")).to_be_visible()
    page.get_by_label("新密码", exact=True).fill("lina-strong-pass")
    page.get_by_label("再次输入新密码").fill("lina-strong-pass-typo")
    page.get_by_role("button", name="设置密码").click()
    expect(page.get_by_role("alert")).to_contain_text("两次输入的密码不一致")
    page.get_by_label("新密码", exact=True).fill("lina-strong-pass")
    page.get_by_label("再次输入新密码").fill("lina-strong-pass")
    page.get_by_role("button", name="设置密码").click()
    expect(page.get_by_role("status")).to_contain_text("密码已设置")
    page.get_by_label("用户名").fill("lina")
    page.get_by_label("密码").fill("lina-strong-pass")
    page.get_by_role("button", name="登录").click()
    page.get_by_role("link", name="两步验证").click()
    page.get_by_role("button", name="开始设置").click()
    link = page.get_by_role("link", name="在身份验证器中打开").get_attribute("href")
    assert link is not None
    secret = re.search(r"secret=([A-Z2-7]+)", link)
    assert secret
    screenshot(page, "staff-two-factor-setup-phone")
    page.get_by_label("验证码").fill("000000")
    page.get_by_role("button", name="确认开启").click()
    expect(page.get_by_role("alert")).to_contain_text("还可以再试 4 次")
    page.get_by_label("验证码").fill(pyotp.TOTP(secret.group(1)).now())
    page.get_by_role("button", name="确认开启").click()
    expect(page.get_by_role("status")).to_contain_text("两步验证已开启")
    expect(page.get_by_role("list", name="恢复码").get_by_role("listitem")).to_have_count(10)
    screenshot(page, "staff-two-factor-codes-phone")
    page.get_by_role("button", name="退出登录").click()
    page.get_by_label("用户名").fill("lina")
    page.get_by_label("密码").fill("lina-strong-pass")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="两步验证")).to_be_visible()
    page.get_by_label("验证码").fill("123456")
    page.get_by_role("button", name="验证并登录").click()
    expect(page.get_by_role("alert")).to_contain_text("还可以再试")
    screenshot(page, "staff-login-code-phone")
    page.get_by_label("验证码").fill(pyotp.TOTP(secret.group(1)).at(_next_step()))
    page.get_by_role("button", name="验证并登录").click()
    expect(page.get_by_role("heading", name=re.compile("坐席工作台"))).to_be_visible()
    phone.close()


def _next_step() -> datetime:
    """The time of the next 30-second step: set-up used the current one, and a code is
    accepted once (one step of clock drift is allowed)."""
    return utcnow() + timedelta(seconds=30)


def test_agents_get_the_403_page_for_staff(live_server: LiveServer, page: Page) -> None:
    make_and_sign_in(live_server, page, username="agent7", role="agent", display_name="坐席 七")
    response = page.goto(f"{live_server.url}/console/staff")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="没有权限")).to_be_visible()
