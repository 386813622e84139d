"""Signing staff in to the console, reading forms and one-time codes, for the page tests."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import STAFF_PASSWORD

from kefu.channels import outbox

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(html: str) -> str:
    match = _CSRF.search(html)
    assert match, html
    return match.group(1)


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def code_from_outbox(db: Session, to: str) -> str:
    """The one-time code in the newest message to ``to``."""
    message = outbox.latest(db, to=to, limit=1)[0]
    match = re.search(r"\d{6}", message.body)
    assert match, message.body
    return match.group(0)


def sign_in(client: TestClient, username: str) -> None:
    form = client.get("/console/login")
    response = client.post(
        "/console/login",
        data={"username": username, "password": STAFF_PASSWORD, "csrf_token": csrf(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def form_fields(html: str, action: str, transaction_id: str | None = None) -> dict[str, str]:
    """The hidden fields of the action form for ``action`` (and ``transaction_id``)."""
    for form in re.findall(r"<form[^>]*>.*?</form>", html, flags=re.S):
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
        if fields.get("action") != action:
            continue
        if transaction_id is not None and fields.get("transaction_id") != transaction_id:
            continue
        return fields
    raise AssertionError(f"no {action} form for {transaction_id}")
