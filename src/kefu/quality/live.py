"""Today, live: who is waiting now, how long the longest has waited, agents online and
busy, cases close to or past their committed time, and today's figures so far."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from kefu.cases import service as cases_service
from kefu.chat import routing as routing_service
from kefu.config import Settings
from kefu.quality import service
from kefu.quality.service import Query, Table


@dataclass(frozen=True)
class Live:
    at: datetime
    waiting: int
    urgent_waiting: int
    longest_wait_seconds: float
    over_target: int  # waiting longer than the service-level target already
    agents_online: int
    agents_busy: int
    cases_at_risk: int
    cases_late: int
    query: Query
    today: Table
    by_channel: Table


def live(db: Session, *, settings: Settings, now: datetime, target_seconds: float) -> Live:
    snapshot = routing_service.snapshot(db, now)
    waits = [max((now - item.enqueued_at).total_seconds(), 0.0) for item in snapshot.waiting]
    online = [a for a in snapshot.agents if a.presence == "online"]
    at_risk, late = cases_service.count_sla_at_risk(db, now=now)
    today = now.astimezone(settings.tz).date()
    query = Query(start=today, end=today, target_seconds=target_seconds)
    return Live(
        at=now,
        waiting=len(snapshot.waiting),
        urgent_waiting=sum(1 for item in snapshot.waiting if item.urgent),
        longest_wait_seconds=max(waits, default=0.0),
        over_target=sum(1 for wait in waits if wait > target_seconds),
        agents_online=len(online),
        agents_busy=sum(1 for a in online if a.load > 0),
        cases_at_risk=at_risk,
        cases_late=late,
        query=query,
        today=service.summary(db, query, settings=settings, now=now),
        by_channel=service.table(db, query, breakdown="channel", settings=settings, now=now),
    )
