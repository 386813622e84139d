"""A transaction the customer did not make: picked from the recent ones, disputed on a
high-priority case, the account frozen first when the customer says yes."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from kefu.bot import actions
from kefu.bot.dialog import Dialog, Reply
from kefu.bot.flows.common import (
    Flow,
    after_freeze,
    ask_yes_no,
    offer_case_or_person,
    offer_transactions,
    open_case_step,
    picked,
    verify_then,
    yes_no_step,
)
from kefu.support import account as support_account
from kefu.support import money
from kefu.wallet.schemas import TransactionFilter


def _list(d: Dialog) -> Reply:
    found = d.wallet.list_transactions(
        actions.account_id(d), TransactionFilter(since=d.now - timedelta(days=30), limit=20)
    )
    outgoing = [
        tx
        for tx in found
        if tx.direction == "out" and tx.status in ("succeeded", "processing", "arrived")
    ][:4]
    if not outgoing:
        return offer_case_or_person(d, d.t("bot.tx.none"))
    return offer_transactions(d, "pick_transaction", d.t("bot.unauthorised.pick"), outgoing)


def _pick(d: Dialog) -> Reply | None:
    chosen = picked(d)
    if chosen is None:
        return None
    d.slots["transaction_id"] = chosen
    return ask_yes_no(
        d,
        "confirm_freeze",
        d.t("bot.unauthorised.offer_freeze"),
        "bot.choice.freeze_now",
        "bot.choice.no_freeze",
    )


def _dispute(d: Dialog, *, freeze: bool) -> Reply:
    """The dispute on its case either way; the account frozen first if the customer wants."""
    transaction_id = str(d.slots["transaction_id"])
    case = actions.open_case(
        d,
        intent="unauthorized_transaction",
        subject=actions.case_subject(d, "unauthorized_transaction"),
        description=d.t("bot.unauthorised.case_text", transaction=transaction_id),
        priority="high",
        links=(("transaction", transaction_id),),
    )
    text = ""
    if freeze:
        account = actions.account_id(d)
        if d.wallet.get_account(account).status != "frozen":
            support_account.freeze(
                actions.money_desk(d),
                actions.asked(d, "freeze", account),
                account_id=account,
                reason="stolen",
            )
        text = d.t("bot.frozen") + " "
    asked = replace(
        actions.asked(d, "dispute", transaction_id), reason=d.t("bot.unauthorised.dispute_reason")
    )
    opened = money.open_dispute(actions.money_desk(d), asked, payment_id=transaction_id)
    assert opened.view is not None  # a customer's own dispute opens at once
    d.slots["dispute_id"] = opened.view.id
    d.finish()
    return Reply(
        text
        + d.t("bot.unauthorised.disputed")
        + " "
        + actions.committed(d, case)
        + (" " + after_freeze(d) if freeze else ""),
        case_reference=case.reference,
    )


FLOWS = {
    "unauthorized_transaction": Flow(
        start=lambda d: verify_then(d, _list),
        verified=_list,
        steps={
            "pick_transaction": _pick,
            "confirm_freeze": yes_no_step(
                lambda d: _dispute(d, freeze=True), lambda d: _dispute(d, freeze=False)
            ),
            "offer_case": open_case_step,
        },
    )
}
