"""A refund: the latest one and where it stands; a rejected one reviewed on a case when
the customer says yes."""

from __future__ import annotations

from kefu.bot import actions
from kefu.bot.dialog import Dialog, Reply
from kefu.bot.flows.common import (
    Flow,
    answered_about,
    ask_yes_no,
    offer_case_or_person,
    open_case_step,
    reason_text,
    status_text,
    verify_then,
    yes_no_step,
)


def _lookup(d: Dialog) -> Reply:
    refunds = sorted(
        d.wallet.list_refunds(actions.account_id(d)), key=lambda r: r.created_at, reverse=True
    )
    if not refunds:
        return offer_case_or_person(d, d.t("bot.refund.none_found"))
    refund = refunds[0]
    d.slots["refund_id"] = refund.id
    answered_about(d, refund.transaction_id)
    text = d.t(
        "bot.refund.found",
        when=d.when(refund.created_at),
        amount=d.money(refund.amount),
        status=status_text(d, "refund", refund.status),
    )
    if refund.status == "rejected":
        reason = reason_text(d, refund.decision_reason)
        if reason:
            text += " " + d.t("bot.reason.because", reason=reason)
        return ask_yes_no(
            d, "offer_review", text + " " + d.t("bot.refund.offer_review"), "bot.choice.review"
        )
    d.finish()
    return Reply(text + " " + d.t(f"bot.refund.next.{refund.status}"))


def _review(d: Dialog) -> Reply:
    case = actions.open_case(
        d,
        intent="refund",
        subject=d.t("bot.refund.review_subject"),
        description=d.t("bot.refund.review_subject") + f" ({d.slots.get('refund_id')})",
        links=(("transaction", str(d.slots.get("transaction_id"))),),
    )
    d.finish()
    return Reply(
        d.t("bot.refund.review_opened") + " " + actions.committed(d, case),
        case_reference=case.reference,
    )


FLOWS = {
    "refund": Flow(
        start=lambda d: verify_then(d, _lookup),
        verified=_lookup,
        steps={"offer_review": yes_no_step(_review), "offer_case": open_case_step},
    )
}
