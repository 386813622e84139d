"""How the outgoing channel adapters are doing, for the admin's console home: mail out and
SMS, each with what is stuck or failed in the last day (mail in and WeChat:
``kefu.inbound.health``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from kefu.channels.email.models import EmailMessage
from kefu.channels.models import OutboxMessage
from kefu.config import Settings
from kefu.health import RECENT, AdapterHealth, reachable


def _count(db: Session, query: Select[int]) -> int:
    return int(db.scalar(query) or 0)


def mail_out(db: Session, settings: Settings, *, now: datetime) -> AdapterHealth:
    since = now - RECENT
    queued = _count(
        db,
        select(func.count(EmailMessage.id)).where(
            EmailMessage.direction == "out", EmailMessage.status.in_(("queued", "sending"))
        ),
    )
    failed = _count(
        db,
        select(func.count(EmailMessage.id)).where(
            EmailMessage.direction == "out",
            EmailMessage.status == "failed",
            EmailMessage.updated_at >= since,
        ),
    )
    facts: dict[str, int | str] = {"queued": queued, "failed_24h": failed}
    if settings.email_backend != "smtp":
        return AdapterHealth("smtp_out", "off", settings.email_backend, facts)
    facts["server"] = f"{settings.smtp_relay_host}:{settings.smtp_relay_port}"
    if not settings.smtp_relay_host or not reachable(
        settings.smtp_relay_host, settings.smtp_relay_port
    ):
        return AdapterHealth("smtp_out", "down", "smtp", facts)
    return AdapterHealth("smtp_out", "warn" if failed else "ok", "smtp", facts)


def sms(db: Session, settings: Settings, *, now: datetime) -> AdapterHealth:
    sent = _count(
        db,
        select(func.count(OutboxMessage.id)).where(
            OutboxMessage.channel == "sms", OutboxMessage.created_at >= now - RECENT
        ),
    )
    # the outbox backend keeps messages for the demo page: nothing reaches a phone
    state = "off" if settings.sms_backend == "outbox" else "ok"
    return AdapterHealth("sms", state, settings.sms_backend, {"sent_24h": sent})
