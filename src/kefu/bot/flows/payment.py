"""A payment failed, or money deducted for a payment that failed (扣款异常): the deduction
returned at once when the customer says yes and the amount is within the assistant's limit."""

from __future__ import annotations

from datetime import timedelta

from kefu.bot import actions
from kefu.bot.dialog import Dialog, Reply
from kefu.bot.flows.common import (
    Flow,
    answered_about,
    ask_yes_no,
    offer_case_or_person,
    open_case_step,
    reason_text,
    tx_line,
    verify_then,
    yes_no_step,
)
from kefu.support import money
from kefu.wallet.schemas import TransactionFilter


def _lookup(d: Dialog) -> Reply:
    payments = d.wallet.list_transactions(
        actions.account_id(d),
        TransactionFilter(kind="payment", since=d.now - timedelta(days=30), limit=20),
    )
    deducted = [tx for tx in payments if tx.status == "deducted_failed"]
    failed = [tx for tx in payments if tx.status == "failed"]
    if deducted:
        tx = deducted[0]
        d.slots["transaction_id"] = tx.id
        found = {"line": tx_line(d, tx), "reason": reason_text(d, tx.status_reason) or "-"}
        if actions.money_desk(d).above_limit(tx.amount):
            # as for an agent: a return this large waits for a supervisor
            return offer_case_or_person(d, d.t("bot.payment.deducted_review", **found))
        return ask_yes_no(
            d, "confirm_reverse", d.t("bot.payment.deducted", **found), "bot.choice.return_money"
        )
    if failed:
        tx = failed[0]
        answered_about(d, tx.id)
        d.finish()
        return Reply(
            d.t(
                "bot.payment.failed",
                line=tx_line(d, tx),
                reason=reason_text(d, tx.status_reason) or "-",
            )
        )
    return offer_case_or_person(d, d.t("bot.payment.none_found"))


def _reverse(d: Dialog) -> Reply:
    transaction_id = str(d.slots["transaction_id"])
    try:
        done = money.reverse_payment(
            actions.money_desk(d),
            actions.asked(d, "reverse", transaction_id),
            payment_id=transaction_id,
        )
    except money.NeedsSupervisor:
        # what the customer's account had returned today leaves this one to a supervisor
        return offer_case_or_person(d, d.t("bot.payment.review"))
    tx = done.view
    d.finish()
    return Reply(d.t("bot.payment.reversed", amount=d.money(tx.amount)))


FLOWS = {
    "payment_failed": Flow(
        start=lambda d: verify_then(d, _lookup),
        verified=_lookup,
        steps={"confirm_reverse": yes_no_step(_reverse), "offer_case": open_case_step},
    )
}
