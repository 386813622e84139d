"""The staff case API, SLA policies, and tracking by the customer, with every permission."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from tests.factories import customer_token, make_customer, make_staff, staff_token
from tests.served_app import app_on

from kefu import audit
from kefu.cases import refs
from kefu.config import Settings
from kefu.identity import service as identity_service
from kefu.identity.models import AccessToken, StaffUser


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _open(client: TestClient, headers: dict[str, str], customer_id: int, **extra: object) -> dict:
    body = {
        "customer_id": customer_id,
        "category": "recharge_not_credited",
        "channel": "chat",
        "subject": "充值没到账",
        "description": "卡号 4111 1111 1111 1111 充值了 200 元",
        "links": [{"kind": "topup", "external_id": "TU-1"}],
        **extra,
    }
    response = client.post("/api/v1/cases", json=body, headers=headers)
    assert response.status_code == 201, response.text
    data: dict = response.json()
    return data


def test_agent_works_a_case_end_to_end(client: TestClient, db: Session) -> None:
    agent = _auth(staff_token(client, db, "agent"))
    customer = make_customer(db)
    case = _open(client, agent, customer.id)
    ref = case["reference"]
    assert "4111 1111 1111" not in str(case)
    assert case["links"] == [{"kind": "topup", "external_id": "TU-1"}]
    assert (
        client.post(
            f"/api/v1/cases/{ref}/notes", json={"body": "内部：查银行流水"}, headers=agent
        ).status_code
        == 201
    )
    replied = client.post(
        f"/api/v1/cases/{ref.lower()}/replies",
        json={"body": "已提交银行查询", "then": "pending_third_party"},
        headers=agent,
    )
    assert replied.status_code == 201 and replied.json()["status"] == "pending_third_party"
    resolved = client.post(
        f"/api/v1/cases/{ref}/resolve", json={"summary": "已到账"}, headers=agent
    )
    assert resolved.json()["status"] == "resolved"
    closed = client.post(f"/api/v1/cases/{ref}/close", headers=agent)
    assert closed.json()["status"] == "closed"
    again = client.post(f"/api/v1/cases/{ref}/close", headers=agent)
    assert again.status_code == 409 and again.json()["error"]["code"] == "case_illegal_move"
    actions = {e.action for e in audit.list_events(db, case_reference=ref)}
    assert {"case.create", "case.status.resolved", "case.status.closed"} <= actions


def test_list_filters_and_text(client: TestClient, db: Session) -> None:
    agent = _auth(staff_token(client, db, "agent"))
    customer = make_customer(db)
    first = _open(client, agent, customer.id)
    second = _open(
        client,
        agent,
        customer.id,
        category="app_technical",
        subject="应用闪退",
        description="打开就闪退",
    )
    listed = client.get("/api/v1/cases", params={"category": "app_technical"}, headers=agent).json()
    assert [c["reference"] for c in listed] == [second["reference"]]
    found = client.get("/api/v1/cases", params={"text": "闪退"}, headers=agent).json()
    assert [c["reference"] for c in found] == [second["reference"]]
    mine = client.get(
        "/api/v1/cases", params={"owner": "none", "status": "new"}, headers=agent
    ).json()
    assert {c["reference"] for c in mine} >= {first["reference"], second["reference"]}
    bad = client.get("/api/v1/cases", params={"category": "lottery"}, headers=agent)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "case_unknown_value"


def test_the_list_pages_by_cursor_newest_first(client: TestClient, db: Session) -> None:
    """Keyset pages: each page starts after the last case of the one before (X-Next-Cursor,
    and the same in a Link header); a case opened meanwhile does not shift later pages."""
    agent = _auth(staff_token(client, db, "agent"))
    customer = make_customer(db)
    opened = [_open(client, agent, customer.id)["reference"] for _ in range(5)]
    params: dict[str, object] = {"customer_id": customer.id, "limit": 2}
    first = client.get("/api/v1/cases", params=params, headers=agent)
    assert [c["reference"] for c in first.json()] == opened[:2:-1]
    cursor = first.headers["X-Next-Cursor"]
    assert f"cursor={cursor}" in first.headers["Link"] and 'rel="next"' in first.headers["Link"]
    _open(client, agent, customer.id)  # newer than every page: not on the next ones
    second = client.get("/api/v1/cases", params={**params, "cursor": cursor}, headers=agent)
    assert [c["reference"] for c in second.json()] == opened[2:0:-1]
    last = client.get(
        "/api/v1/cases",
        params={**params, "cursor": second.headers["X-Next-Cursor"]},
        headers=agent,
    )
    assert [c["reference"] for c in last.json()] == opened[:1]
    assert "X-Next-Cursor" not in last.headers  # a short page is the last
    old_style = client.get("/api/v1/cases", params={**params, "offset": 3}, headers=agent)
    assert [c["reference"] for c in old_style.json()] == opened[2:0:-1]  # deprecated, kept
    bad = client.get(
        "/api/v1/cases", params={**params, "cursor": "bm90LWEtY3Vyc29y"}, headers=agent
    )
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "cursor"


def test_bad_input_gets_clear_errors(client: TestClient, db: Session) -> None:
    agent = _auth(staff_token(client, db, "agent"))
    case = _open(client, agent, make_customer(db).id)
    ref = case["reference"]
    wrong_check = ref[:-1] + ("0" if ref[-1] != "0" else "1")
    mistyped = client.get(f"/api/v1/cases/{wrong_check}", headers=agent)
    assert mistyped.status_code == 400 and mistyped.json()["error"]["code"] == "reference_mistyped"
    garbage = client.get("/api/v1/cases/hello", headers=agent)
    assert garbage.status_code == 400 and garbage.json()["error"]["code"] == "reference_invalid"
    unknown = str(refs.Reference(period="2601", number=7))
    assert client.get(f"/api/v1/cases/{unknown}", headers=agent).status_code == 404
    illegal = client.patch(f"/api/v1/cases/{ref}", json={"status": "closed"}, headers=agent)
    assert illegal.status_code == 409
    assert client.get(f"/api/v1/cases/{ref}", headers=agent).json()["status"] == "new"


def test_escalation_routes(client: TestClient, db: Session) -> None:
    agent = _auth(staff_token(client, db, "agent"))
    specialist = make_staff(db, "specialist")
    ref = _open(client, agent, make_customer(db).id)["reference"]
    no_reason = client.post(
        f"/api/v1/cases/{ref}/escalate", json={"tier": "tier2", "reason": ""}, headers=agent
    )
    assert no_reason.status_code == 422
    up = client.post(
        f"/api/v1/cases/{ref}/escalate",
        json={"tier": "tier2", "reason": "需要技术排查", "owner": specialist.username},
        headers=agent,
    )
    assert up.status_code == 200 and up.json()["tier"] == "tier2"
    assert up.json()["owner_id"] == specialist.id


def test_sla_policies_are_read_by_staff_and_changed_by_admins(
    client: TestClient, db: Session
) -> None:
    agent = _auth(staff_token(client, db, "agent"))
    admin = _auth(staff_token(client, db, "admin"))
    rows = client.get("/api/v1/sla-policies", headers=agent).json()
    assert len(rows) == 64
    path = "/api/v1/sla-policies/complaint/normal"
    assert client.put(path, json={"resolution_minutes": 100}, headers=agent).status_code == 403
    changed = client.put(
        path, json={"first_response_minutes": 60, "calendar": "business"}, headers=admin
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["calendar"] == "business" and changed.json()["updated_by"].startswith(
        "staff:"
    )
    backwards = client.put(
        path, json={"first_response_minutes": 10**6 // 2, "resolution_minutes": 10}, headers=admin
    )
    assert backwards.status_code == 400
    assert (
        client.put("/api/v1/sla-policies/lottery/normal", json={}, headers=admin).status_code == 400
    )


def test_customer_tracks_own_case_without_internal_notes(client: TestClient, db: Session) -> None:
    agent = _auth(staff_token(client, db, "agent"))
    alice, bob = make_customer(db), make_customer(db)
    ref = _open(client, agent, alice.id)["reference"]
    client.post(f"/api/v1/cases/{ref}/notes", json={"body": "内部备注：疑似套现"}, headers=agent)
    client.post(f"/api/v1/cases/{ref}/replies", json={"body": "正在核查"}, headers=agent)
    mine = client.get(
        f"/api/v1/me/cases/{ref.replace('-', ' ').lower()}",
        headers=_auth(customer_token(db, alice)),
    )
    assert mine.status_code == 200, mine.text
    data = mine.json()
    assert data["reference"] == ref and data["status"] == "open"
    assert ref in data["committed_text"] and data["regulator_route"] is None
    bodies = " ".join(e["body"] or "" for e in data["timeline"])
    assert "正在核查" in bodies and "疑似套现" not in bodies
    assert {e["author"] for e in data["timeline"]} <= {"you", "staff", "system"}
    theirs = client.get(f"/api/v1/me/cases/{ref}", headers=_auth(customer_token(db, bob)))
    unknown = client.get(
        f"/api/v1/me/cases/{refs.Reference(period='2601', number=9)}",
        headers=_auth(customer_token(db, bob)),
    )
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json()["error"]["code"] == unknown.json()["error"]["code"] == "case_not_found"
    assert ref not in theirs.text


def test_customer_reply_reopens_and_complaint_shows_regulator(
    client: TestClient, db: Session
) -> None:
    agent = _auth(staff_token(client, db, "agent"))
    alice = make_customer(db, language="en")
    ref = _open(client, agent, alice.id, category="complaint", subject="服务太慢")["reference"]
    client.post(f"/api/v1/cases/{ref}/resolve", json={"summary": "已致歉并补偿"}, headers=agent)
    customer = _auth(customer_token(db, alice))
    seen = client.get(f"/api/v1/me/cases/{ref}", headers=customer).json()
    assert "12363" in seen["regulator_route"]
    assert client.get("/api/v1/me/cases", headers=customer).json()[0]["reference"] == ref
    reopened = client.post(
        f"/api/v1/me/cases/{ref}/messages", json={"body": "不满意"}, headers=customer
    )
    assert reopened.status_code == 201 and reopened.json()["status"] == "open"


@pytest.mark.parametrize(
    ("method", "path", "permission_role"),
    [
        ("POST", "/api/v1/cases", "agent"),
        ("GET", "/api/v1/cases", "agent"),
        ("PUT", "/api/v1/sla-policies/other/normal", "admin"),
    ],
)
def test_roles_below_the_permission_are_refused(
    client: TestClient, db: Session, method: str, path: str, permission_role: str
) -> None:
    for role in ("agent", "specialist", "supervisor"):
        response = client.request(
            method, path, json={}, headers=_auth(staff_token(client, db, role))
        )
        refused = permission_role == "admin"
        assert (response.status_code == 403) is refused, (role, path, response.status_code)


def test_opening_a_case_refuses_a_revoked_token_or_a_disabled_member_at_once(
    isolated_database: Engine, settings: Settings
) -> None:
    """Committed for real, as served: the caller is checked on a connection of its own
    (on SQLite a read-only one beside the writer), which must see a revocation or a
    deactivation committed a moment before."""
    sessions = sessionmaker(bind=isolated_database, expire_on_commit=False)
    app = app_on(isolated_database, settings)
    with sessions.begin() as db:
        first, second = make_staff(db, "agent"), make_staff(db, "agent")
        customer_id = make_customer(db).id
        tokens = {
            user.id: identity_service.issue_token(
                db, kind="api", ttl_seconds=600, staff_user_id=user.id
            ).token
            for user in (first, second)
        }
    body = {"customer_id": customer_id, "category": "recharge_not_credited", "subject": "s"}
    with TestClient(app) as client:
        for token in tokens.values():
            opened = client.post("/api/v1/cases", json=body, headers=_auth(token))
            assert opened.status_code == 201, opened.text
        with sessions.begin() as db:
            record = db.scalar(select(AccessToken).where(AccessToken.staff_user_id == first.id))
            assert record is not None
            identity_service.revoke_token(db, record)
            user = db.get(StaffUser, second.id)
            assert user is not None
            user.is_active = False
        for token in tokens.values():
            refused = client.post("/api/v1/cases", json=body, headers=_auth(token))
            assert refused.status_code == 401


def test_a_reply_still_holding_a_placeholder_is_refused(client: TestClient, db: Session) -> None:
    """The API sends no canned reply half filled, as the case page and the chat do not."""
    agent = _auth(staff_token(client, db, "agent"))
    opened = _open(client, agent, make_customer(db).id)
    ref = opened["reference"]
    for body in ("您的工单 {reference} 已登记", "您的工单【请填写：工单编号】已登记"):
        refused = client.post(f"/api/v1/cases/{ref}/replies", json={"body": body}, headers=agent)
        assert refused.status_code == 400, refused.text
        error = refused.json()["error"]
        assert error["code"] == "unfilled_placeholder"
        assert "【请填写：工单编号】" in error["message"]
    case = client.get(f"/api/v1/cases/{ref}", headers=agent).json()
    assert case["status"] == opened["status"]  # nothing was sent, so nothing moved
    assert case["first_responded_at"] is None and case["version"] == opened["version"]
