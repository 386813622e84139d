"""What the agent's case page shows, ready for the template in the agent's language: the
case's state and clock, one timeline across channels, the customer and wallet panel.

Timeline entries keep the visibility they were written with; the template draws public and
internal ones apart. A customer's and an agent's messages form a conversation; a call shows
its menu path and outcome from the voice records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.cases import service, timeline, views, work
from kefu.cases.categories import Category, Channel, Priority, Tier
from kefu.cases.models import Case, CaseAttachment, CaseEvent
from kefu.cases.transitions import FINISHED, Mover, Status, next_statuses
from kefu.i18n import Lang, translate
from kefu.identity import service as identity_service
from kefu.masking import mask_email, mask_phone
from kefu.voice import views as voice_views
from kefu.voice.views import CallLine
from kefu.wallet import offers
from kefu.wallet.errors import WalletNotFound
from kefu.wallet.port import WalletGateway
from kefu.wallet.schemas import AccountView, TransactionFilter

_MENTION = re.compile(r"(@[A-Za-z0-9_.\-]{1,64})")
ACCOUNT_ROWS = 8  # the transactions the panel offers actions on


@dataclass(frozen=True)
class Clock:
    """Committed time and what is left of it, as people read it."""

    due_at: datetime | None
    left: str
    late: bool
    at_risk: bool


def _duration(delta: timedelta, lang: Lang) -> str:
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return translate("cases.page.days_hours", lang, days=days, hours=hours)
    if hours:
        return translate("cases.page.hours_minutes", lang, hours=hours, minutes=mins)
    return translate("cases.page.minutes", lang, minutes=mins)


def clock(case: Case, now: datetime, lang: Lang) -> Clock:
    """Time left to the resolution target (the committed time told the customer when the
    target is unknown); while the first reply is owed and warned of or late, that is what
    the text says, so a row shown in red never reads "6 days left" without its reason."""
    if Status(case.status) in FINISHED:
        return Clock(case.resolution_due_at, translate("cases.page.finished", lang), False, False)
    due = case.resolution_due_at
    reply_due = case.first_response_due_at if case.first_responded_at is None else None
    reply_late = reply_due is not None and reply_due <= now
    reply_warned = (
        reply_due is not None
        and case.first_response_warn_at is not None
        and case.first_response_warn_at <= now
    )
    if due is None:  # the resolution clock waits on the customer; a first reply may not
        if reply_due is not None and (reply_late or reply_warned):
            key = "cases.page.first_reply_late_by" if reply_late else "cases.page.first_reply_left"
            text = translate(key, lang, time=_duration(reply_due - now, lang))
            return Clock(None, text, False, True)
        return Clock(None, translate("cases.page.clock_paused", lang), False, False)
    left = due - now
    late = left.total_seconds() < 0
    warned = case.resolution_warn_at is not None and case.resolution_warn_at <= now
    if late:
        text = translate("cases.page.late_by", lang, time=_duration(left, lang))
    elif reply_due is not None and (reply_late or reply_warned):
        key = "cases.page.first_reply_late_by" if reply_late else "cases.page.first_reply_left"
        text = translate(key, lang, time=_duration(reply_due - now, lang))
    else:
        text = translate("cases.page.left", lang, time=_duration(left, lang))
    return Clock(due, text, late, late or warned or reply_late or reply_warned)


@dataclass
class Entry:
    event: CaseEvent
    kind: str
    public: bool
    who: str
    side: str  # customer | staff | system: where a message sits in the conversation
    body: str | None
    pieces: list[tuple[str, bool]] = field(default_factory=list)  # note text, mentions marked
    lines: list[str] = field(default_factory=list)  # what changed, in words
    attachment: CaseAttachment | None = None
    call_sid: str | None = None  # a call's entry leads to its after-call page


def _names(db: Session) -> dict[str, str]:
    return {f"staff:{s.username}": s.display_name for s in identity_service.list_staff(db)}


def _who(event: CaseEvent, names: dict[str, str], lang: Lang) -> tuple[str, str]:
    if event.actor_role == "customer":
        return translate("cases.page.customer", lang), "customer"
    if event.actor_role in ("system", "assistant"):
        return translate(f"cases.page.actor.{event.actor_role}", lang), "system"
    return names.get(event.actor, event.actor.removeprefix("staff:")), "staff"


def _label(prefix: str, code: Any, lang: Lang, fallback: str | None = None) -> str:
    """A code's catalogue text; an unknown code shows ``fallback``'s text rather than
    itself (another domain may record codes this page has not learnt yet)."""
    key = f"{prefix}.{code}"
    text = translate(key, lang)
    if text != key:
        return text
    return translate(fallback, lang) if fallback else str(code)


def label_or_code(prefix: str, code: str, lang: Lang) -> str:
    """A wallet code's text; a company's core may have codes of its own, shown as sent."""
    key = f"{prefix}.{code}"
    text = translate(key, lang)
    return code if text == key else text


def _describe(
    event: CaseEvent, data: dict[str, Any], lang: Lang, staff_by_id: dict[int, str]
) -> list[str]:
    kind = event.kind
    if kind == "status":
        return [
            translate(
                "cases.page.moved",
                lang,
                before=_label("case.console_status", data.get("from"), lang),
                after=_label("case.console_status", data.get("to"), lang),
            )
        ]
    if kind == "assignment":
        if "tier_to" in data:
            return [
                translate(
                    "cases.page.transferred", lang, tier=_label("case.tier", data["tier_to"], lang)
                )
            ]
        owner = staff_by_id.get(data.get("to") or 0)
        if owner is None:
            return [translate("cases.page.unassigned", lang)]
        return [translate("cases.page.assigned", lang, owner=owner)]
    if kind == "escalation":
        return [
            translate(
                "cases.page.escalated",
                lang,
                before=_label("case.tier", data.get("from"), lang),
                after=_label("case.tier", data.get("to"), lang),
            )
        ]
    if kind == "action":
        return [_label("cases.action", data.get("action"), lang, "cases.action.other")]
    if kind == "call":
        return [_label("voice.outcome", data.get("outcome"), lang, "cases.kind.call")]
    if kind == "link":
        if "follow_up_case" in data:
            return [translate("cases.page.follow_up", lang, reference=data["follow_up_case"])]
        return [f"{_label('cases.link', data.get('kind'), lang)} {data.get('id', '')}"]
    if kind == "update":
        after = data.get("after", {})
        return [
            f"{_label('cases.field', key, lang)}: {_value(key, value, lang)}"
            for key, value in after.items()
        ]
    if kind == "message" and data.get("channel"):
        return [_label("cases.channel", data["channel"], lang, "cases.kind.message")]
    if kind == "notification":
        # one event per person told: naming them keeps two alike lines apart
        what = _label(
            "cases.notification", data.get("notification"), lang, "cases.notification.other"
        )
        to = staff_by_id.get(data.get("staff_user_id") or 0)
        if to is None and data.get("recipient") == "customer":
            to = translate("cases.page.customer", lang)
        return [what, translate("cases.page.notified", lang, who=to)] if to else [what]
    return []


def _value(key: str, value: Any, lang: Lang) -> str:
    if key in ("category", "priority"):
        return _label(f"case.{key}", value, lang)
    return str(value)


_DECISIONS = ("approval.approved", "approval.rejected")


def _waiting(data: dict[str, Any], lang: Lang, *, decided: bool) -> list[str]:
    """What a four-eyes request on the case asks for, and that it still waits while no
    decision follows it on the timeline."""
    what = _label("support.action", data.get("wallet_action"), lang, "cases.action.other")
    amount = data.get("amount")
    lines = [translate("cases.page.amount", lang, what=what, amount=amount) if amount else what]
    if not decided:
        lines.append(translate("cases.page.waiting_supervisor", lang))
    return lines


def entries(db: Session, case: Case, lang: Lang) -> list[Entry]:
    names = _names(db)
    staff_by_id = {s.id: s.display_name for s in identity_service.list_staff(db)}
    attachments = {
        row.public_id: row
        for row in db.scalars(select(CaseAttachment).where(CaseAttachment.case_id == case.id))
    }
    found = []
    events = [(event, timeline.event_data(event)) for event in timeline.events(db, case)]
    decided = {
        data.get("approval")
        for event, data in events
        if event.kind == "action" and data.get("action") in _DECISIONS
    }
    for event, data in events:
        who, side = _who(event, names, lang)
        entry = Entry(
            event=event,
            kind=event.kind,
            public=event.visibility == timeline.PUBLIC,
            who=who,
            side=side,
            body=event.body,
            lines=_describe(event, data, lang, staff_by_id),
            attachment=attachments.get(str(data.get("attachment", ""))),
            call_sid=str(data["call_sid"]) if data.get("call_sid") else None,
        )
        if event.kind == "action" and data.get("action") == "approval.requested":
            entry.lines += _waiting(data, lang, decided=data.get("approval") in decided)
        if event.kind == "note" and event.body:
            entry.pieces = [
                (part, part.startswith("@")) for part in _MENTION.split(event.body) if part
            ]
        found.append(entry)
    return found


@dataclass(frozen=True)
class CustomerPanel:
    id: int
    name: str
    account: str
    phone: str
    email: str
    language: str
    verified_contact: bool
    open_cases: list[Case]


def customer_panel(db: Session, case: Case) -> CustomerPanel:
    customer = identity_service.get_customer(db, case.customer_id)
    others = service.list_cases(db, flt=service.CaseFilter(customer_id=customer.id), limit=10)
    return CustomerPanel(
        id=customer.id,
        name=customer.name,
        account=customer.wallet_account_id,
        phone=mask_phone(customer.phone),
        email=mask_email(customer.email),
        language=customer.language,
        verified_contact=not identity_service.is_mail_contact(customer),
        open_cases=[c for c in others if c.id != case.id and Status(c.status) not in FINISHED],
    )


@dataclass(frozen=True)
class AccountPanel:
    """The customer's wallet account and latest transactions, with the account actions
    each allows (the support layer decides whether they run or wait)."""

    account: AccountView
    transactions: list[offers.TransactionRow]
    freeze_reasons: tuple[str, ...] = offers.FREEZE_REASONS


def account_panel(wallet: WalletGateway, customer: CustomerPanel) -> AccountPanel | None:
    """None when the wallet does not know the account."""
    try:
        account = wallet.get_account(customer.account)
    except WalletNotFound:
        return None
    latest = wallet.list_transactions(customer.account, TransactionFilter(limit=ACCOUNT_ROWS))
    return AccountPanel(account=account, transactions=[offers.row(t) for t in latest])


def calls(db: Session, case: Case, lang: Lang) -> list[CallLine]:
    """The case's calls with their menu path and outcome, as the voice records keep them."""
    lines = voice_views.customer_calls(db, case.customer_id, lang).calls
    return [line for line in lines if line.case_reference == case.reference]


def reply_channels(db: Session, case: Case) -> list[str]:
    customer = identity_service.get_customer(db, case.customer_id)
    found = ["app"]
    if customer.phone:
        found.append("sms")
    if customer.email or case.channel == "email":
        found.insert(0, "email")
    return found


def choices(case: Case) -> dict[str, Any]:
    """What the forms on the page may offer for this case."""
    rank = work.tier_rank(case.tier)
    return {
        "statuses": [s.value for s in next_statuses(Status(case.status), Mover.STAFF)],
        "tiers": [t.value for t in Tier],
        "higher_tiers": [t.value for t in Tier if work.tier_rank(t.value) > rank],
        "priorities": [p.value for p in Priority],
        "channels": [c.value for c in Channel],
        "resolution_codes": list(work.RESOLUTION_CODES),
        "link_kinds": ["transaction", "topup", "refund", "dispute", "call", "case"],
        "finished": Status(case.status) in FINISHED,
        "resolved": case.status == Status.RESOLVED.value,
    }


def choices_for_filters() -> dict[str, list[str]]:
    return {
        "priorities": [p.value for p in Priority],
        "categories": [c.value for c in Category],
        "channels": [c.value for c in Channel],
        "tiers": [t.value for t in Tier],
        "teams": list(views.TEAMS),
    }


def build(db: Session, case: Case, *, lang: Lang, now: datetime) -> dict[str, Any]:
    owner = identity_service.get_staff(db, case.owner_id) if case.owner_id else None
    return {
        "case": case,
        "version": work.version_of(case),
        "owner": owner,
        "clock": clock(case, now, lang),
        "entries": entries(db, case, lang),
        "calls": calls(db, case, lang),
        "links": service.links(db, case),
        "merged": work.merged_references(db, case),
        "customer": customer_panel(db, case),
        "reply_channels": reply_channels(db, case),
        "default_channel": work.default_channel(case),
        "staff_list": [s for s in identity_service.list_staff(db) if s.is_active],
        **choices(case),
    }
