"""What every support command leaves behind when it is done, whatever the surface asked
(console, staff API, assistant, phone): the case note when it was done for a case, and the
service-quality fact (``action_done``) when it was asked in a conversation or a call. One
place, so no surface forgets them and none writes them twice (both once per idempotency
key). A waiting action is noted by the approval queue instead (``approval.requested``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kefu.approvals.service import Told
from kefu.cases import service as cases_service
from kefu.i18n import normalise_lang
from kefu.identity import service as identity_service
from kefu.quality import events as quality_events

if TYPE_CHECKING:
    from kefu.support.money import Asked, Money


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
    if customer_id is None:
        return
    case = cases_service.get_customer_case(
        m.db, customer_id=customer_id, reference=asked.case_reference
    )
    public_text = told.text(normalise_lang(case.language) or "zh-CN") if told else None
    cases_service.record_action(
        m.db,
        case,
        action=action,
        detail={**detail, "reason": asked.reason},
        actor=asked.requester.actor,
        public_text=public_text,
        now=m.now,
        once=asked.key,
    )
