"""What every support command leaves behind when it is done, whatever the surface asked
(console, staff API, assistant, phone): the case note when it was done for a case, and the
service-quality fact (``action_done``) when it was asked in a conversation or a call. One
place, so no surface forgets them and none writes them twice (both once per idempotency
key). A waiting action is noted when it is filed and when it is decided
(``kefu.support.approval``), through the same place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from kefu import audit
from kefu.cases import service as cases_service
from kefu.i18n import Lang, normalise_lang, translate
from kefu.identity import service as identity_service
from kefu.quality import events as quality_events

if TYPE_CHECKING:
    from kefu.approvals.models import ApprovalRequest
    from kefu.support.base import Asked, Money


@dataclass(frozen=True)
class Told:
    """What the customer reads on their case about an action: a catalogue key and its
    values; ``what`` names a support action and is shown by its name in the case's
    language."""

    key: str
    what: str = ""
    amount: str = ""
    reason: str = ""

    def text(self, lang: Lang) -> str:
        what = translate(f"support.action.{self.what}", lang) if self.what else ""
        return translate(self.key, lang, what=what, amount=self.amount, reason=self.reason)


def note(
    m: Money,
    asked: Asked,
    *,
    action: str,
    account_id: str,
    told: Told | None = None,
    **detail: Any,
) -> None:
    """A timeline entry on ``asked``'s case, if it names one: for staff only, or with
    ``told`` also a line the customer reads in the case's language. The case must be the
    account holder's; a replay under the same key is noted once. And the action counted
    for ``asked``'s contact, if it names one."""
    if asked.contact is not None:
        contact = asked.contact
        quality_events.record(
            m.db,
            "action_done",
            channel=contact.channel,
            at=m.now,
            conversation_id=contact.conversation_id,
            call_sid=contact.call_sid,
            case_id=contact.case_id,
            customer_id=asked.customer_id,
            category=contact.category,
            data={"action": action.removeprefix("wallet.")},
            once=asked.key,
        )
    if asked.case_reference is None:
        return
    customer_id = asked.customer_id
    if customer_id is None:  # the staff API may name the case without the customer
        holder = identity_service.find_customer_by_account(m.db, account_id)
        customer_id = holder.id if holder is not None else None
    note_case(
        m.db,
        case_reference=asked.case_reference,
        customer_id=customer_id,
        action=action,
        detail={**detail, "reason": asked.reason},
        actor=asked.requester.actor,
        told=told,
        now=m.now,
        once=asked.key,
    )


def filed(m: Money, asked: Asked, request: ApprovalRequest) -> None:
    """The case note of a request filed under ``asked.key`` ("your refund is with a
    supervisor for review"), once; a request ``asked`` only joined (it was already
    waiting, filed under another key) was noted when it was filed."""
    if request.request_key != asked.key:
        return
    note(
        m,
        asked,
        action="approval.requested",
        account_id=request.wallet_account_id,
        told=Told("support.told.pending", what=request.action),
        approval=request.id,
        wallet_action=request.action,
        amount=request.amount,
    )


def note_case(
    db: Session,
    *,
    case_reference: str | None,
    customer_id: int | None,
    action: str,
    detail: dict[str, Any],
    actor: audit.Actor,
    told: Told | None = None,
    now: datetime | None = None,
    once: str | None = None,
) -> None:
    """The timeline entry itself, for what no requester asked (a refund the settlement
    paid): on the customer's case ``case_reference``, which must be theirs."""
    if case_reference is None or customer_id is None:
        return
    case = cases_service.get_customer_case(db, customer_id=customer_id, reference=case_reference)
    public_text = told.text(normalise_lang(case.language) or "zh-CN") if told else None
    cases_service.record_action(
        db,
        case,
        action=action,
        detail=detail,
        actor=actor,
        public_text=public_text,
        now=now,
        once=once,
    )
