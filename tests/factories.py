"""Builders for real objects through the services, shared by tests of every domain."""

from __future__ import annotations

import itertools

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from kefu.identity import service as identity_service
from kefu.identity.models import Customer, StaffUser

STAFF_PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


def make_staff(db: Session, role: str = "agent", username: str | None = None) -> StaffUser:
    name = username or f"{role}{next(_counter)}"
    return identity_service.create_staff(db, username=name, password=STAFF_PASSWORD, role=role)


def staff_token(client: TestClient, db: Session, role: str = "agent") -> str:
    user = make_staff(db, role)
    response = client.post(
        "/api/v1/auth/token", json={"username": user.username, "password": STAFF_PASSWORD}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def make_customer(db: Session, *, language: str = "zh-CN") -> Customer:
    n = next(_counter)
    return identity_service.create_customer(
        db,
        wallet_account_id=f"T{n:09d}",
        name=f"测试客户{n}",
        phone=f"+86139{n:08d}",
        email=f"customer{n}@example.com",
        language=language,
    )


def customer_token(db: Session, customer: Customer, ttl_seconds: int = 600) -> str:
    """A verified customer's token, as the one-time-code flow would issue it."""
    return identity_service.issue_token(
        db, kind="customer", ttl_seconds=ttl_seconds, customer_id=customer.id
    ).token
