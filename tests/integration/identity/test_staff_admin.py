"""Staff administration in the console: invitations by a set-password link mailed through
the outbound mail path (single use, expiring), stale-edit protection, deactivation that
ends sessions and tokens at once, and refusals shown in the form with nothing saved."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories import STAFF_PASSWORD, make_staff

from kefu.channels.models import OutboxMessage
from kefu.db import utcnow
from kefu.identity.models import AccessToken, StaffPasswordLink, StaffUser

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_LINK = re.compile(r"/console/set-password/([A-Za-z0-9_-]+)")


def _csrf(html: str) -> str:
    match = _CSRF.search(html)
    assert match, html
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str = STAFF_PASSWORD) -> str:
    """Signs in through the form; returns the session's CSRF token from the home page."""
    form = client.get("/console/login")
    response = client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": _csrf(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return _csrf(client.get("/console").text)


def _invite(client: TestClient, csrf: str, **fields: str):  # type: ignore[no-untyped-def]
    data = {
        "username": "xiaozhou",
        "display_name": "小周",
        "email": "zhou@kefu-wallet.com.cn",
        "role": "agent",
        "language": "zh-CN",
        "csrf_token": csrf,
        **fields,
    }
    return client.post("/console/staff", data=data, follow_redirects=False)


def _staff_count(db: Session) -> int:
    return int(db.scalar(select(func.count(StaffUser.id))) or 0)


def _mailed_link(db: Session, address: str) -> str:
    mail = db.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.destination == address)
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert mail is not None and mail.channel == "email"
    found = _LINK.search(mail.body)
    assert found, mail.body
    return found.group(1)


def test_an_invitation_mails_a_single_use_link(client: TestClient, db: Session) -> None:
    admin = make_staff(db, "admin")
    db.commit()
    csrf = sign_in(client, admin.username)
    response = _invite(client, csrf)
    assert response.status_code == 303
    invited = db.scalar(select(StaffUser).where(StaffUser.username == "xiaozhou"))
    assert invited is not None and invited.email == "zhou@kefu-wallet.com.cn"
    token = _mailed_link(db, "zhou@kefu-wallet.com.cn")
    # nobody knows the password the invitation created
    client.cookies.clear()
    form = client.get(f"/console/set-password/{token}")
    assert form.status_code == 200 and "小周" in form.text
    short = client.post(
        f"/console/set-password/{token}",
        data={"password": "short", "repeated": "short", "csrf_token": _csrf(form.text)},
    )
    assert short.status_code == 400 and "至少需要 10 个字符" in short.text
    done = client.post(
        f"/console/set-password/{token}",
        data={
            "password": "a-new-long-password",
            "repeated": "a-new-long-password",
            "csrf_token": _csrf(short.text),
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert sign_in(client, "xiaozhou", "a-new-long-password")
    again = client.get(f"/console/set-password/{token}")
    assert again.status_code == 410 and "已使用" in again.text


def test_an_expired_link_sets_nothing(client: TestClient, db: Session) -> None:
    admin = make_staff(db, "admin")
    db.commit()
    _invite(client, sign_in(client, admin.username))
    token = _mailed_link(db, "zhou@kefu-wallet.com.cn")
    link = db.scalars(select(StaffPasswordLink)).all()[-1]
    link.expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    assert client.get(f"/console/set-password/{token}").status_code == 410


def test_an_invitation_to_an_address_already_used_is_refused_in_the_form(
    client: TestClient, db: Session
) -> None:
    admin = make_staff(db, "admin")
    db.commit()
    csrf = sign_in(client, admin.username)
    assert _invite(client, csrf).status_code == 303
    before, mails = _staff_count(db), db.scalar(select(func.count(OutboxMessage.id)))
    again = _invite(client, csrf, username="another", email="ZHOU@kefu-wallet.com.cn")
    assert again.status_code == 409
    assert "这个邮箱已被另一位员工使用" in again.text
    assert 'value="another"' in again.text  # what was typed stays in the form
    assert _staff_count(db) == before
    assert db.scalar(select(func.count(OutboxMessage.id))) == mails
    bad = _invite(client, csrf, username="third", email="not-an-address")
    assert bad.status_code == 400 and "这不是有效的邮箱地址" in bad.text
    assert _staff_count(db) == before


def test_deactivating_ends_sessions_and_tokens_at_once(client: TestClient, db: Session) -> None:
    admin, agent = make_staff(db, "admin"), make_staff(db, "agent")
    db.commit()
    token = client.post(
        "/api/v1/auth/token", json={"username": agent.username, "password": STAFF_PASSWORD}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/staff/me", headers=headers).status_code == 200
    csrf = sign_in(client, admin.username)
    response = client.post(
        f"/console/staff/{agent.id}/active",
        data={"active": "0", "version": "1", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert client.get("/api/v1/staff/me", headers=headers).status_code == 401
    live = db.scalar(
        select(func.count(AccessToken.id)).where(
            AccessToken.staff_user_id == agent.id, AccessToken.revoked_at.is_(None)
        )
    )
    assert live == 0
    page = client.get(f"/console/staff/{agent.id}").text
    assert "已停用" in page and "停用" in page


def test_an_edit_on_a_stale_copy_is_refused_and_shows_what_is_saved(
    client: TestClient, db: Session
) -> None:
    admin, agent = make_staff(db, "admin"), make_staff(db, "agent")
    db.commit()
    csrf = sign_in(client, admin.username)
    first = {
        "display_name": "王芳",
        "email": "",
        "role": "specialist",
        "team": "支付组",
        "language": "zh-CN",
        "version": "1",
        "csrf_token": csrf,
    }
    assert client.post(f"/console/staff/{agent.id}", data=first).status_code == 200
    stale = client.post(
        f"/console/staff/{agent.id}", data={**first, "display_name": "王小芳", "role": "agent"}
    )
    assert stale.status_code == 409
    assert "请查看当前内容后再保存" in stale.text and "王小芳" in stale.text
    db.expire_all()
    saved = db.get(StaffUser, agent.id)
    assert saved is not None
    assert (saved.display_name, saved.role, saved.team) == ("王芳", "specialist", "支付组")
    history = client.get(f"/console/staff/{agent.id}").text
    assert "修改资料" in history and "支付组" in history


def test_agents_may_not_open_the_staff_pages(client: TestClient, db: Session) -> None:
    agent = make_staff(db, "agent")
    db.commit()
    sign_in(client, agent.username)
    page = client.get("/console/staff")
    assert page.status_code == 403 and "没有权限" in page.text
