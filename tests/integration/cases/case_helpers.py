"""Builders for cases through the service, for the cases tests."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session
from tests.factories import make_customer

from kefu import audit
from kefu.cases import service
from kefu.cases.models import Case
from kefu.config import Settings

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
AGENT = audit.Actor(name="staff:tester", role="agent")


def make_case(
    db: Session,
    settings: Settings,
    *,
    category: str = "recharge_not_credited",
    priority: str | None = "normal",
    now: datetime = T0,
    description: str | None = "充值100元没到账",
    customer_id: int | None = None,
) -> Case:
    return service.open_case(
        db,
        new=service.NewCase(
            customer_id=customer_id or make_customer(db).id,
            category=category,
            channel="web",
            subject="充值不到账",
            description=description,
            priority=priority,
        ),
        actor=AGENT,
        settings=settings,
        now=now,
    )
