"""How the inbound channel adapters are doing, for the admin's console home: mail in (the
SMTP server, the IMAP mailbox) and the WeChat official account, each with what is stuck or
failed in the last day (mail out and SMS: ``kefu.channels.health``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from kefu.config import Settings
from kefu.health import RECENT, AdapterHealth, reachable
from kefu.inbound.email.models import InboundMail
from kefu.inbound.wechat.models import WeChatOutgoing


def _count(db: Session, query: Select[int]) -> int:
    return int(db.scalar(query) or 0)


def mail_in(db: Session, settings: Settings, *, now: datetime) -> AdapterHealth:
    since = now - RECENT
    received = _count(
        db, select(func.count(InboundMail.id)).where(InboundMail.received_at >= since)
    )
    failed = _count(
        db,
        select(func.count(InboundMail.id)).where(
            InboundMail.status == "failed", InboundMail.received_at >= since
        ),
    )
    waiting = _count(db, select(func.count(InboundMail.id)).where(InboundMail.status == "received"))
    facts: dict[str, int | str] = {
        "received_24h": received,
        "queued": waiting,
        "failed_24h": failed,
    }
    backends = []
    down = False
    if settings.smtp_server_enabled:
        backends.append("smtp")
        facts["server"] = f"{settings.smtp_host}:{settings.smtp_port}"
        down = not reachable(settings.smtp_host, settings.smtp_port)
    if settings.imap_host:
        backends.append("imap")
        facts["mailbox"] = f"{settings.imap_host}:{settings.imap_port}"
        down = down or not reachable(settings.imap_host, settings.imap_port)
    if not backends:
        return AdapterHealth("smtp_in", "off", "—", facts)
    state = "down" if down else "warn" if failed else "ok"
    return AdapterHealth("smtp_in", state, "+".join(backends), facts)


def wechat(db: Session, settings: Settings, *, now: datetime) -> AdapterHealth:
    if not settings.wechat_token:
        return AdapterHealth("wechat", "off", "—")
    queued = _count(
        db,
        select(func.count(WeChatOutgoing.id)).where(
            WeChatOutgoing.status.in_(("queued", "sending"))
        ),
    )
    failed = _count(
        db,
        select(func.count(WeChatOutgoing.id)).where(
            WeChatOutgoing.status == "failed", WeChatOutgoing.updated_at >= now - RECENT
        ),
    )
    facts: dict[str, int | str] = {"queued": queued, "failed_24h": failed}
    mode = "safe" if settings.wechat_aes_key else "plain"
    return AdapterHealth("wechat", "warn" if failed else "ok", mode, facts)
