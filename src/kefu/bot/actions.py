"""What the assistant does to the world: wallet actions through the port, cases, hand-over.

Every wallet action carries an ``ActionContext`` like an agent's: the assistant's own actor
(role ``assistant``, checked against the permission table), an idempotency key made from
the conversation, the action, its target and the verification that allowed it (a repeated
"yes" never acts twice), the case and the customer for the audit row. The verification
must be strong enough for the action (``kefu.identity.questions.require_allowed``).
"""

from __future__ import annotations

from kefu.bot.dialog import Dialog, Reply
from kefu.cases import notify
from kefu.cases import service as cases
from kefu.cases.categories import category_for_intent
from kefu.cases.models import Case
from kefu.chat import service as chat
from kefu.errors import PermissionDenied
from kefu.identity import questions
from kefu.identity import service as identity_service
from kefu.identity.permissions import ASSISTANT, has_permission
from kefu.wallet.idempotency import ActionContext


def account_id(d: Dialog) -> str:
    return identity_service.get_customer(d.db, d.customer_id).wallet_account_id


def context(d: Dialog, action: str, target: str, permission: str = "wallet.act") -> ActionContext:
    if not has_permission(ASSISTANT, permission):
        raise PermissionDenied(f"the assistant may not {permission}")
    if not d.verified:
        raise PermissionDenied("the assistant acts only after a fresh verification")
    # a verification by security questions allows freezing, never an action that lifts a
    # protection or moves money (the hotline's rule, kefu.voice.selfservice)
    questions.require_allowed(d.db, d.conversation.verification_id, action)
    case = current_case(d)
    return ActionContext(
        key=f"bot:{d.conversation.public_id}:{action}:{target}:{d.conversation.verification_id}",
        actor=d.actor,
        case_reference=case.reference if case else None,
        customer_id=d.customer_id,
    )


def record(d: Dialog, kind: str, **data: str) -> None:
    """A fact for the service-quality figures, on this conversation's contact, folded in
    after the turn commits: the customer does not wait for the figures."""
    from kefu.quality import events

    conversation = d.conversation
    events.record_later(
        d.db,
        kind,
        channel=conversation.channel if conversation.channel in events.CHANNELS else "web",
        at=d.now,
        conversation_id=conversation.id,
        case_id=conversation.case_id,
        customer_id=conversation.customer_id,
        category=category_for_intent(d.flow or conversation.intent or "out_of_scope").value,
        data=dict(data) or None,
    )


def done(d: Dialog, action: str) -> None:
    record(d, "action_done", action=action)


def current_case(d: Dialog) -> Case | None:
    if d.conversation.case_id is None:
        return None
    return d.db.get(Case, d.conversation.case_id)


def open_case(
    d: Dialog,
    *,
    intent: str,
    subject: str,
    description: str | None = None,
    priority: str | None = None,
    links: tuple[tuple[str, str], ...] = (),
) -> Case:
    """The conversation's case: opened once, with its committed time told to the customer."""
    existing = current_case(d)
    if existing is not None and existing.status not in ("resolved", "closed"):
        return existing
    case = cases.open_case(
        d.db,
        new=cases.NewCase(
            customer_id=d.customer_id,
            category=category_for_intent(intent).value,
            channel="chat",
            subject=subject[:200],
            description=description,
            priority=priority,
            language=d.lang,
            links=links,
        ),
        actor=d.actor,
        settings=d.settings,
        senders=None,
        now=d.now,
    )
    d.conversation.case_id = case.id
    return case


def committed(d: Dialog, case: Case) -> str:
    return notify.committed_sentence(case, d.settings, d.lang)


def facts(d: Dialog) -> dict[str, str]:
    """What the assistant learnt, for the person who takes over."""
    return {key: str(value) for key, value in d.slots.items() if value not in (None, "")}


def hand_over(d: Dialog, *, reason: str, tier: str = "tier1", urgent: bool = False) -> Reply:
    """Queue the conversation for a person with everything known so far; the customer hears
    where they stand. A known customer's conversation also becomes (or joins) a case."""
    from kefu.chat import routing

    conversation = d.conversation
    intent = d.flow or conversation.intent or "human_agent"
    case = current_case(d)
    if case is None and conversation.customer_id is not None and d.verified:
        case = open_case(
            d,
            intent=intent,
            subject=d.t("bot.case.subject", topic=d.t(f"bot.topic.{intent}")),
            description=chat.transcript(d.db, conversation),
            priority="urgent" if urgent else None,
        )
    conversation.urgent = conversation.urgent or urgent
    item = routing.enqueue(
        d.db,
        kind="chat",
        language=d.lang,
        category=category_for_intent(intent).value,
        tier=tier,
        urgent=conversation.urgent,
        customer_id=conversation.customer_id,
        conversation_id=conversation.id,
        case_id=case.id if case else None,
        context={
            "intent": intent,
            "reason": reason,
            "facts": facts(d),
            "verified": d.verified,
            "verified_at": conversation.verified_at.isoformat()
            if conversation.verified_at
            else None,
            "scam_flagged": conversation.scam_flagged,
        },
        now=d.now,
    )
    place = routing.position(d.db, item, now=d.now)
    record(d, "handed_over", reason=reason)
    conversation.status = "queued"
    conversation.handed_over_at = d.now
    d.finish()
    d.state["misses"] = 0
    text = d.t(
        "bot.handoff.queued",
        position=place.position,
        minutes=max(1, round(place.estimated_wait_seconds / 60)),
    )
    if case is not None:
        text += " " + d.t("bot.handoff.case", reference=case.reference)
    return Reply(text, handoff=True, case_reference=case.reference if case else None)
