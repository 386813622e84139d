"""Audit rows as a person reads them: who did it (a colleague's name, "the assistant", "a
customer") and what they did, in the reader's language — never ``staff:agent (agent)``,
``assistant:conversation:320`` or ``case.status.resolved``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from kefu.audit import AuditEvent
from kefu.i18n import Lang, translate
from kefu.identity import service as identity_service

STAFF_PREFIX = "staff:"


@dataclass(frozen=True)
class AuditRow:
    created_at: datetime
    who: str
    what: str
    case_reference: str | None


def _known(key: str, lang: Lang) -> str | None:
    text = translate(key, lang)
    return None if text == key else text


def action_label(action: str, lang: Lang) -> str:
    """``case.status.resolved`` → 工单状态改为：已解决; an action without a label of its own
    is named by its domain (钱包操作) rather than shown as a code."""
    named = _known(f"audit.action.{action}", lang)
    if named is not None:
        return named
    domain, _, rest = action.partition(".")
    if domain == "case" and rest.startswith("status."):
        status = rest.removeprefix("status.")
        label = _known(f"case.console_status.{status}", lang) or translate(
            "audit.action.other", lang
        )
        return translate("audit.action.case_status", lang, status=label)
    return _known(f"audit.domain.{domain}", lang) or translate("audit.action.other", lang)


def actor_label(actor: str, role: str, lang: Lang, staff_names: dict[str, str]) -> str:
    if actor.startswith(STAFF_PREFIX):
        username = actor.removeprefix(STAFF_PREFIX)
        role_label = _known(f"audit.role.{role}", lang) or translate("audit.role.staff", lang)
        return staff_names.get(username) or f"{role_label} {username}"
    kind = actor.partition(":")[0]
    return _known(f"audit.actor.{kind}", lang) or translate("audit.actor.system", lang)


def rows(db: Session, events: Sequence[AuditEvent], lang: Lang) -> list[AuditRow]:
    staff_names: dict[str, str] = {}
    for event in events:
        username = event.actor.removeprefix(STAFF_PREFIX)
        if event.actor.startswith(STAFF_PREFIX) and username not in staff_names:
            user = identity_service.get_staff_by_username(db, username)
            if user is not None:
                staff_names[username] = user.display_name
    return [
        AuditRow(
            created_at=event.created_at,
            who=actor_label(event.actor, event.actor_role, lang, staff_names),
            what=action_label(event.action, lang),
            case_reference=event.case_reference,
        )
        for event in events
    ]
