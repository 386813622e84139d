"""The console home, one per role: an agent's own open work, a supervisor's live queue,
cases at risk and approvals waiting, and an admin's adapter health. Each part shows to the
staff whose role holds its permission, the highest role's part first; every figure links
to the page where the work is done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from kefu import audit, health
from kefu.cases import finder
from kefu.cases import service as cases_service
from kefu.channels import health as channels_health
from kefu.chat import bus as chat_bus
from kefu.chat import routing
from kefu.config import Settings
from kefu.db import DbSession, utcnow
from kefu.deps import SettingsDep
from kefu.identity import service as identity_service
from kefu.identity.deps import CSRF_FIELD, StaffPrincipal, require
from kefu.inbound import health as inbound_health
from kefu.masking import mask_email, mask_phone
from kefu.support import approval
from kefu.voice import callbacks as voice_callbacks
from kefu.voice import health as voice_health
from kefu.web import audit_view
from kefu.web.templating import render

router = APIRouter(prefix="/console", include_in_schema=False)
ConsoleUser = Annotated[StaffPrincipal, Depends(require("console.use"))]
AT_RISK_SHOWN = 10
APPROVALS_SHOWN = 5


@dataclass(frozen=True)
class MyWork:
    cases_by_status: dict[str, int]
    open_cases: int
    warned: int
    late: int
    unassigned: int
    # customers queued for the agent's skills beside those offered to them: an agent not
    # online is offered nothing, and the offers count alone read 0 while chats waited
    queued: int
    # customers of every channel (chats, calls, call-backs, e-mails), as in the inbox: an
    # offered call left out would ring unseen
    offered: int
    serving: int
    presence: str | None  # None for staff who do not take customers
    # push routing offers work only to agents online: the home says why none comes
    missing_queue: bool
    callbacks: int
    urgent_callbacks: int


@dataclass(frozen=True)
class LiveQueue:
    waiting: int
    urgent: int
    oldest_wait_seconds: int
    queues: list[routing.QueueRow]
    agents_online: int
    agents_busy: int


@dataclass(frozen=True)
class AtRisk:
    warned: int
    late: int
    cases: list[Any]
    owners: dict[int, str]


def my_work(db: Session, staff: StaffPrincipal, settings: Settings, *, now: datetime) -> MyWork:
    by_status = cases_service.count_unfinished(db, owner_id=staff.user.id)
    warned, late = cases_service.count_sla_at_risk(db, now=now, owner_id=staff.user.id)
    # the routing profile (skills, presence) matters only to staff who take customers
    agent = routing.profile_as_is(db, staff.user) if staff.may("chat.work") else None
    held = routing.items_of(db, staff.user.id) if agent is not None else []
    queued = routing.count_waiting_for(db, agent) if agent is not None else 0
    owed, urgent = voice_callbacks.count_owed(db) if staff.may("voice.read") else (0, 0)
    return MyWork(
        cases_by_status=by_status,
        open_cases=sum(by_status.values()),
        warned=warned,
        late=late,
        unassigned=sum(cases_service.count_unfinished(db, unassigned=True).values()),
        queued=queued,
        offered=sum(1 for item in held if item.status == "offered"),
        serving=sum(1 for item in held if item.status == "assigned"),
        presence=agent.presence if agent is not None else None,
        missing_queue=agent is not None
        and queued > 0
        and agent.presence != "online"
        and settings.routing_mode == "push",
        callbacks=owed,
        urgent_callbacks=urgent,
    )


def live_queue(db: Session, *, now: datetime) -> LiveQueue:
    view = routing.snapshot(db, now)
    online = [a for a in view.agents if a.presence == "online"]
    return LiveQueue(
        waiting=sum(q.waiting for q in view.queues),
        urgent=sum(q.urgent for q in view.queues),
        oldest_wait_seconds=max((q.oldest_wait_seconds for q in view.queues), default=0),
        queues=view.queues,
        agents_online=len(online),
        agents_busy=sum(1 for a in online if a.load >= a.capacity),
    )


def at_risk(db: Session, *, now: datetime) -> AtRisk:
    warned, late = cases_service.count_sla_at_risk(db, now=now)
    cases = cases_service.at_risk(db, now=now, limit=AT_RISK_SHOWN)
    owners = {
        user.id: user.display_name
        for user in identity_service.list_staff(db)
        if user.id in {c.owner_id for c in cases}
    }
    return AtRisk(warned=warned, late=late, cases=cases, owners=owners)


def adapter_health(db: Session, settings: Settings, *, now: datetime) -> list[health.AdapterHealth]:
    redis_used = settings.jobs_backend == "redis" or chat_bus.backend_of(settings) == "redis"
    return [
        health.database(db),
        health.redis(settings, in_use=redis_used),
        health.job_queue(db, settings, now=now),
        channels_health.mail_out(db, settings, now=now),
        inbound_health.mail_in(db, settings, now=now),
        channels_health.sms(db, settings, now=now),
        inbound_health.wechat(db, settings, now=now),
        voice_health.voice(db, settings, now=now),
    ]


def _customers(db: Session, query: str | None) -> list[dict[str, Any]]:
    found = identity_service.list_customers(db, query=query, limit=20) if query else []
    return [
        {
            "id": c.id,
            "name": c.name,
            "wallet_account_id": c.wallet_account_id,
            "phone": mask_phone(c.phone),
            "email": mask_email(c.email),
        }
        for c in found
    ]


@router.get("")
def home(
    request: Request,
    staff: ConsoleUser,
    db: DbSession,
    settings: SettingsDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    now = utcnow()
    supervises = staff.may("routing.supervise")
    pending = approval.waiting(db, staff=staff.user)
    return render(
        request,
        "console/home.html",
        {
            "staff": staff.user,
            "may": staff.may,
            "csrf_token": staff.token.csrf_token,
            "csrf_field": CSRF_FIELD,
            "nav_active": "home",
            "now": now,
            "query": q or "",
            "customers": _customers(db, q),
            # the one search box: a reference, a contact or words find cases too
            "finding": finder.find(db, q, limit=10) if q and staff.may("case.read") else None,
            "work": my_work(db, staff, settings, now=now),
            "queue": live_queue(db, now=now) if supervises else None,
            "risk": at_risk(db, now=now) if supervises else None,
            "approvals": pending[:APPROVALS_SHOWN],
            "approvals_waiting": len(pending),
            "adapters": adapter_health(db, settings, now=now)
            if staff.may("system.health")
            else None,
            "recent_audit": audit_view.rows(db, audit.list_events(db, limit=15), request.state.lang)
            if staff.may("audit.read")
            else [],
        },
    )
