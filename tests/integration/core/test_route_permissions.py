"""Walks every route of the app: no anonymous or customer request reaches staff data, each
staff route refuses the roles that lack its permission, and a customer never sees another
customer's data."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import customer_token, make_customer, staff_token

from kefu.identity.deps import current_customer, current_staff
from kefu.identity.permissions import ROLE_ORDER, has_permission

# Routes anyone may call. Everything else must declare who may call it.
PUBLIC_ROUTES = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/"),
    ("GET", "/favicon.ico"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
    ("POST", "/api/v1/auth/token"),
    ("GET", "/console/login"),
    ("POST", "/console/login"),
    # the sign-in's second step (its own short-lived token) and the set-password link
    # mailed to invited staff (the link's token is the capability)
    ("GET", "/console/login/code"),
    ("POST", "/console/login/code"),
    ("GET", "/console/set-password/{token}"),
    ("POST", "/console/set-password/{token}"),
    ("POST", "/api/v1/verifications"),
    ("POST", "/api/v1/verifications/{verification_id}/resend"),
    ("POST", "/api/v1/verifications/{verification_id}/confirm"),
    ("GET", "/api/v1/faq"),
    ("GET", "/api/v1/faq/{slug}"),
    ("POST", "/api/v1/faq/{slug}/feedback"),
    # anti-fraud: the official channel list, "is this really yours?" and scam reports
    ("GET", "/api/v1/channels"),
    ("GET", "/api/v1/verify"),
    ("POST", "/api/v1/antifraud/reports"),
    # the phone hotline: the carrier's webhooks, checked by its signature instead, and
    # the prompt audio it fetches (keyed hashes)
    ("POST", "/voice/incoming"),
    ("POST", "/sms/incoming"),
    ("GET", "/wechat"),
    ("POST", "/wechat"),
    ("POST", "/voice/input"),
    ("POST", "/voice/queue/wait"),
    ("POST", "/voice/queue/input"),
    ("POST", "/voice/queue/done"),
    ("POST", "/voice/dial/done"),
    ("POST", "/voice/status"),
    ("GET", "/voice/prompts/{key}.wav"),
    # the assistant: anonymous until verified; a conversation answers its owner key (or its
    # signed-in customer) only
    ("POST", "/api/v1/bot/messages"),
    ("POST", "/api/v1/bot/conversations"),
    ("GET", "/api/v1/bot/conversations/{conversation_id}/messages"),
    # live chat's widget: the conversation's owner key (websockets: chat tests)
    ("GET", "/chat"),
    ("POST", "/api/v1/chat/conversations"),
    ("GET", "/api/v1/chat/widget-texts"),
    ("POST", "/api/v1/chat/conversations/{conversation_id}/attachments"),
    ("GET", "/api/v1/chat/conversations/{conversation_id}/attachments/{attachment_id}"),
    # satisfaction surveys: the survey token (or the conversation's owner key) is the capability
    ("GET", "/api/v1/surveys/{token}"),
    ("POST", "/api/v1/surveys/{token}"),
    ("POST", "/api/v1/surveys/{token}/opt-out"),
    ("GET", "/api/v1/surveys/conversation/{public_id}"),
    ("GET", "/help/survey/{token}"),
    ("POST", "/help/survey/{token}"),
    ("POST", "/help/survey/{token}/opt-out"),
    # the help center: public pages, and case tracking up to the one-time code
    ("GET", "/help"),
    ("GET", "/help/search"),
    ("GET", "/help/articles/{slug}"),
    ("GET", "/help/contact"),
    ("GET", "/help/verify"),
    ("GET", "/help/track"),
    ("POST", "/help/track"),
    ("POST", "/help/track/resend"),
    ("POST", "/help/track/confirm"),
    # the help center's anti-fraud pages: scam reports, and "is it you calling me?" up to
    # the one-time code (the answer itself is a verified customer's page)
    ("GET", "/help/report"),
    ("POST", "/help/report"),
    ("POST", "/help/calling-me/code"),
    ("POST", "/help/calling-me/resend"),
    ("POST", "/help/calling-me/confirm"),
}


def _calls(dependant: Any) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _guard(route: APIRoute) -> tuple[str, str | None]:
    """('staff', permission), ('staff_or_customer', permission), ('customer', None) or
    ('public', None)."""
    permission = None
    kind = "public"
    for call in _calls(route.dependant):
        if getattr(call, "kefu_customer_allowed", False):
            return "staff_or_customer", call.kefu_permission
        if getattr(call, "kefu_permission", None):
            permission = call.kefu_permission
        # require_apart checks the caller as current_staff does, in work of its own
        if call is current_staff or getattr(call, "kefu_staff", False):
            kind = "staff"
        customer_guard = call is current_customer or getattr(call, "kefu_customer_page", False)
        if customer_guard and kind == "public":
            kind = "customer"
    return kind, permission


def _routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    found = []
    for context in iter_route_contexts(app.routes):  # included routers, expanded
        route = context.route
        if isinstance(route, APIRoute):
            for method in sorted(route.methods - {"HEAD"}):
                found.append((method, context.path, route))
    return found


def test_the_walk_sees_every_route(app: FastAPI) -> None:
    paths = {path for _method, path, _route in _routes(app)}
    assert len(paths) > 150
    assert {"/api/v1/cases/{reference}", "/console/staff/{staff_id}", "/help/track"} <= paths


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_route_is_public_by_list_or_guarded(app: FastAPI) -> None:
    unguarded = [
        (method, path)
        for method, path, route in _routes(app)
        if (method, path) not in PUBLIC_ROUTES and _guard(route)[0] == "public"
    ]
    assert unguarded == []


# Staff routes any signed-in staff member may call, whatever the role.
ANY_STAFF_ROUTES = {("POST", "/api/v1/auth/logout")}


def test_staff_routes_declare_a_permission(app: FastAPI) -> None:
    missing = [
        (method, path)
        for method, path, route in _routes(app)
        if _guard(route)[0] == "staff"
        and _guard(route)[1] is None
        and (method, path) not in ANY_STAFF_ROUTES
    ]
    assert missing == []


def test_anonymous_requests_reach_no_guarded_route(app: FastAPI, client: TestClient) -> None:
    for method, path, _route in _routes(app):
        if (method, path) in PUBLIC_ROUTES:
            continue
        response = client.request(method, _url(path), json={}, follow_redirects=False)
        if path.startswith("/console"):
            assert response.status_code == 303, (method, path)
            assert response.headers["location"] == "/console/login"
        else:
            assert response.status_code == 401, (method, path, response.text)


def test_customers_reach_no_staff_route(app: FastAPI, client: TestClient, db: Session) -> None:
    token = customer_token(db, make_customer(db))
    headers = {"Authorization": f"Bearer {token}"}
    for method, path, route in _routes(app):
        if _guard(route)[0] != "staff":
            continue
        response = client.request(
            method, _url(path), json={}, headers=headers, follow_redirects=False
        )
        expected = 303 if path.startswith("/console") else 401
        assert response.status_code == expected, (method, path, response.status_code)


def test_staff_tokens_are_not_customer_tokens(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    headers = {"Authorization": f"Bearer {staff_token(client, db, 'admin')}"}
    for method, path, route in _routes(app):
        if _guard(route)[0] == "customer":
            response = client.request(method, _url(path), json={}, headers=headers)
            assert response.status_code == 401, (method, path)


@pytest.mark.parametrize("role", [role.value for role in ROLE_ORDER])
def test_each_role_is_refused_what_it_lacks(
    role: str, app: FastAPI, client: TestClient, db: Session
) -> None:
    headers = {"Authorization": f"Bearer {staff_token(client, db, role)}"}
    for method, path, route in _routes(app):
        kind, permission = _guard(route)
        if kind not in {"staff", "staff_or_customer"} or permission is None:
            continue
        if has_permission(role, permission):
            continue
        response = client.request(method, _url(path), json={}, headers=headers)
        assert response.status_code == 403, (role, method, path, response.status_code)


def test_customer_routes_never_show_another_customers_data(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    alice, bob = make_customer(db), make_customer(db)
    headers = {"Authorization": f"Bearer {customer_token(db, bob)}"}
    customer_routes = [
        (m, p)
        for m, p, r in _routes(app)
        if _guard(r)[0] in {"customer", "staff_or_customer"} and m == "GET"
    ]
    for method, path in customer_routes:
        assert "{customer_id}" not in path, "customer routes act on the caller only"
        body = client.request(method, _url(path), headers=headers).text
        assert alice.wallet_account_id not in body, path
        assert alice.name not in body, path


def test_a_case_reference_shows_its_own_customer_only(
    client: TestClient, db: Session, settings
) -> None:
    from tests.integration.cases.case_helpers import make_case

    from kefu.cases.refs import new_reference
    from kefu.db import utcnow

    owner, stranger = make_customer(db), make_customer(db)
    case = make_case(db, settings, customer_id=owner.id)
    path = f"/api/v1/cases/{case.reference}"
    mine = client.get(path, headers={"Authorization": f"Bearer {customer_token(db, owner)}"})
    assert mine.status_code == 200, mine.text
    assert mine.json()["reference"] == case.reference
    theirs = client.get(path, headers={"Authorization": f"Bearer {customer_token(db, stranger)}"})
    unknown = client.get(
        f"/api/v1/cases/{new_reference(utcnow())}",
        headers={"Authorization": f"Bearer {customer_token(db, stranger)}"},
    )
    assert theirs.status_code == 404
    assert theirs.json()["error"]["code"] == unknown.json()["error"]["code"]
    staff = client.get(path, headers={"Authorization": f"Bearer {staff_token(client, db)}"})
    assert staff.status_code == 200
    assert client.get(path).status_code == 401
