import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import STAFF_PASSWORD, make_customer, make_staff

from kefu import audit

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _csrf(html: str) -> str:
    match = _CSRF.search(html)
    assert match, html
    return match.group(1)


def _sign_in(client: TestClient, username: str, password: str = STAFF_PASSWORD):
    form = client.get("/console/login")
    return client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": _csrf(form.text)},
        follow_redirects=False,
    )


def test_sign_in_sets_a_safe_session_cookie(client: TestClient, db: Session) -> None:
    user = make_staff(db, "agent")
    response = _sign_in(client, user.username)
    assert response.status_code == 303
    assert response.headers["location"] == "/console"
    cookie = next(h for h in response.headers.get_list("set-cookie") if "kefu_session=" in h)
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    home = client.get("/console")
    assert home.status_code == 200
    assert user.display_name in home.text


def test_sign_in_without_csrf_token_is_refused(client: TestClient, db: Session) -> None:
    user = make_staff(db)
    client.get("/console/login")
    response = client.post(
        "/console/login",
        data={"username": user.username, "password": STAFF_PASSWORD, "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "kefu_session" not in response.headers.get("set-cookie", "")


def test_wrong_password_shows_the_form_again(client: TestClient, db: Session) -> None:
    user = make_staff(db)
    response = _sign_in(client, user.username, "wrong-password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text


def test_console_pages_follow_the_language_switch(client: TestClient) -> None:
    assert "登录" in client.get("/console/login", headers={"Accept-Language": "zh-CN"}).text
    assert "Sign in" in client.get("/console/login?lang=en").text
    # the choice sticks, over the browser's Accept-Language, until changed again
    assert "Sign in" in client.get("/console/login", headers={"Accept-Language": "zh-CN"}).text
    assert "登录" in client.get("/console/login?lang=zh-CN").text


def test_logout_needs_the_session_csrf_token(client: TestClient, db: Session) -> None:
    user = make_staff(db)
    _sign_in(client, user.username)
    home = client.get("/console")
    forged = client.post("/console/logout", data={"csrf_token": "nope"}, follow_redirects=False)
    assert forged.status_code == 403
    assert client.get("/console").status_code == 200
    token = _csrf(home.text)
    out = client.post("/console/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_customer_search_masks_phone(client: TestClient, db: Session) -> None:
    customer = make_customer(db)
    user = make_staff(db)
    _sign_in(client, user.username)
    page = client.get("/console", params={"q": customer.name})
    assert customer.name in page.text
    assert customer.phone not in page.text
    assert customer.phone[3:6] + "****" + customer.phone[-4:] in page.text


def test_supervisors_see_recent_audit_and_agents_do_not(client: TestClient, db: Session) -> None:
    # the audit table names the row's case; a reference no page would show otherwise
    marker = "KF-2612-AUDIT-0"
    audit.record(
        db, actor=audit.Actor("system", "system"), action="demo.marker", case_reference=marker
    )
    agent, supervisor = make_staff(db, "agent"), make_staff(db, "supervisor")
    _sign_in(client, agent.username)
    assert marker not in client.get("/console").text
    client.cookies.clear()
    _sign_in(client, supervisor.username)
    page = client.get("/console").text
    assert f'<a href="/console/cases/{marker}"><code>{marker}</code></a>' in page  # one click on
    assert "demo.marker" not in page  # people read the action's label, never its code
