"""Every console route of the case workspace has a staff API twin under /api/v1/cases,
guarded by the same permission, and the twins change a case the same way."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import make_customer, make_staff, staff_token
from tests.integration.cases.case_helpers import make_case

from kefu.cases.models import Case, CaseNotification
from kefu.config import Settings

# console route -> its API twin
TWINS: dict[tuple[str, str], tuple[str, str]] = {
    ("GET", "/console/cases"): ("GET", "/api/v1/cases/view"),
    ("GET", "/console/cases/counts"): ("GET", "/api/v1/cases/counts"),
    ("POST", "/console/cases/bulk"): ("POST", "/api/v1/cases/bulk"),
    ("POST", "/console/cases/views"): ("POST", "/api/v1/cases/saved-views"),
    ("POST", "/console/cases/views/{view_id}/delete"): (
        "DELETE",
        "/api/v1/cases/saved-views/{view_id}",
    ),
    ("GET", "/console/cases/{reference}"): ("GET", "/api/v1/cases/{reference}"),
    ("POST", "/console/cases/{reference}/reply"): ("POST", "/api/v1/cases/{reference}/replies"),
    ("POST", "/console/cases/{reference}/note"): ("POST", "/api/v1/cases/{reference}/notes"),
    ("POST", "/console/cases/{reference}/claim"): ("POST", "/api/v1/cases/{reference}/claim"),
    ("POST", "/console/cases/{reference}/assign"): ("POST", "/api/v1/cases/{reference}/assign"),
    ("POST", "/console/cases/{reference}/transfer"): (
        "POST",
        "/api/v1/cases/{reference}/transfer",
    ),
    ("POST", "/console/cases/{reference}/status"): ("PATCH", "/api/v1/cases/{reference}"),
    ("POST", "/console/cases/{reference}/update"): ("PATCH", "/api/v1/cases/{reference}"),
    ("POST", "/console/cases/{reference}/escalate"): (
        "POST",
        "/api/v1/cases/{reference}/escalate",
    ),
    ("POST", "/console/cases/{reference}/link"): ("POST", "/api/v1/cases/{reference}/links"),
    ("POST", "/console/cases/{reference}/merge"): ("POST", "/api/v1/cases/{reference}/merge"),
    ("POST", "/console/cases/{reference}/resolve"): ("POST", "/api/v1/cases/{reference}/resolve"),
    ("POST", "/console/cases/{reference}/close"): ("POST", "/api/v1/cases/{reference}/close"),
    ("POST", "/console/cases/{reference}/reopen"): ("POST", "/api/v1/cases/{reference}/reopen"),
    ("POST", "/console/cases/{reference}/attachments"): (
        "POST",
        "/api/v1/cases/{reference}/attachments",
    ),
    ("POST", "/console/cases/{reference}/account"): (
        "POST",
        "/api/v1/cases/{reference}/account-actions",
    ),
    ("GET", "/console/cases/{reference}/attachments/{public_id}"): (
        "GET",
        "/api/v1/cases/{reference}/attachments/{attachment_id}",
    ),
}


def _permission(route: APIRoute) -> str | None:
    """The ``require(...)`` permission among the route's dependencies, searched in depth."""
    stack: list[Any] = [route.dependant]
    while stack:
        dependant = stack.pop()
        permission = getattr(dependant.call, "kefu_permission", None)
        if permission:
            return str(permission)
        stack.extend(dependant.dependencies)
    return None


def _routes(app: FastAPI) -> dict[tuple[str, str], APIRoute]:
    # app.routes holds included routers unexpanded (FastAPI 0.16x); walk their routes
    return {
        (method, context.path): context.route
        for context in iter_route_contexts(app.routes)
        if isinstance(context.route, APIRoute)
        for method in context.route.methods
    }


def test_every_console_case_route_has_a_twin_with_the_same_permission(app: FastAPI) -> None:
    routes = _routes(app)
    console = {key for key in routes if key[1].startswith("/console/cases")}
    assert console == set(TWINS), console ^ set(TWINS)
    for key, twin in TWINS.items():
        assert twin in routes, f"{key} has no API twin {twin}"
        assert _permission(routes[key]) is not None, key
        assert _permission(routes[key]) == _permission(routes[twin]), (key, twin)


def test_the_api_twins_work_a_case_as_the_console_does(
    client: TestClient, db: Session, settings: Settings
) -> None:
    token = staff_token(client, db, "agent")
    auth = {"Authorization": f"Bearer {token}"}
    colleague = make_staff(db, "specialist")
    customer = make_customer(db)
    kept = make_case(db, settings, customer_id=customer.id, description="提现没到账")
    duplicate = make_case(db, settings, customer_id=customer.id, description="提现还是没到")
    db.commit()
    base = f"/api/v1/cases/{kept.reference}"

    listed = client.get(
        "/api/v1/cases/view", params={"view": "unassigned", "limit": 1}, headers=auth
    )
    assert listed.status_code == 200 and listed.json()["next_cursor"]
    found = client.get("/api/v1/cases/find", params={"q": "提现"}, headers=auth).json()
    assert {h["reference"] for h in found["hits"]} >= {kept.reference, duplicate.reference}
    assert any(hit for part in found["hits"] for _, hit in part["snippet"])

    version = client.get(base, headers=auth).json()["version"]
    claimed = client.post(f"{base}/claim", headers=auth)
    assert claimed.status_code == 200
    stale = client.post(f"{base}/notes", json={"body": "x", "version": version}, headers=auth)
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "case_stale"
    noted = client.post(f"{base}/notes", json={"body": f"@{colleague.username} 请看"}, headers=auth)
    assert noted.status_code == 201
    assert db.scalar(select(CaseNotification).where(CaseNotification.staff_user_id == colleague.id))
    too_long = client.post(f"{base}/replies", json={"body": "长" * 20_001}, headers=auth)
    assert too_long.status_code == 400 and too_long.json()["error"]["field"] == "body"
    replied = client.post(f"{base}/replies", json={"body": "您好", "via": "sms"}, headers=auth)
    assert replied.status_code == 201
    moved = client.post(f"{base}/transfer", json={"tier": "tier2"}, headers=auth)
    assert moved.status_code == 200 and moved.json()["tier"] == "tier2"
    merged = client.post(f"{base}/merge", json={"duplicate": duplicate.reference}, headers=auth)
    assert merged.status_code == 200
    resolved = client.post(
        f"{base}/resolve",
        json={"summary": "已到账", "resolution_code": "fixed"},
        headers=auth,
    )
    assert resolved.json()["resolution_code"] == "fixed"
    reopened = client.post(f"{base}/reopen", json={"reason": "客户说还有问题"}, headers=auth)
    assert reopened.json()["status"] == "open"
    bad_code = client.post(
        f"{base}/resolve", json={"summary": "x", "resolution_code": "nonsense"}, headers=auth
    )
    assert bad_code.status_code == 400
    via_old = client.get(f"/api/v1/cases/{duplicate.reference}", headers=auth).json()
    assert via_old["reference"] == kept.reference
    bulk = client.post(
        "/api/v1/cases/bulk",
        json={"cases": [kept.reference], "change": "status", "value": "closed"},
        headers=auth,
    ).json()
    assert kept.reference in bulk["refused"]  # open -> closed is not in the table
    saved = client.post(
        "/api/v1/cases/saved-views",
        json={"name": "紧急", "query": "view=all&priority=urgent"},
        headers=auth,
    )
    assert saved.status_code == 201
    assert (
        client.delete(f"/api/v1/cases/saved-views/{saved.json()['id']}", headers=auth).status_code
        == 204
    )
    db.expire_all()
    assert db.scalar(select(Case.merged_into_id).where(Case.id == duplicate.id)) == kept.id
