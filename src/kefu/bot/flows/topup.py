"""A top-up (充值) not credited, or failed: found by the amount and time the customer
names, explained, traced when stuck too long."""

from __future__ import annotations

from datetime import timedelta

from kefu.bot import actions
from kefu.bot.dialog import Dialog, Reply
from kefu.bot.flows.common import (
    SKIP,
    Flow,
    answered_about,
    ask_which,
    collect_amount_and_time,
    fits_amount,
    fits_time,
    offer_case_or_person,
    open_case_step,
    picked,
    reason_text,
    status_text,
    trace_stuck,
    verify_then,
)
from kefu.wallet.schemas import TransactionView


def _start(d: Dialog) -> Reply:
    collect_amount_and_time(d)
    if "amount" not in d.slots:
        d.goto("amount")
        return Reply(
            d.t("bot.recharge.ask_amount"),
            quick_replies=[d.option("bot.choice.dont_remember", SKIP)],
        )
    return verify_then(d, _lookup)


def _amount(d: Dialog) -> Reply | None:
    if d.text.strip() != SKIP:
        collect_amount_and_time(d)
        if "amount" not in d.slots:
            return None
    return verify_then(d, _lookup)


def _lookup(d: Dialog) -> Reply:
    account = actions.account_id(d)
    recent = [
        tx for tx in d.wallet.find_top_ups(account) if d.now - tx.created_at < timedelta(days=30)
    ]
    if not recent:
        return offer_case_or_person(d, d.t("bot.recharge.none_found"))
    # people remember amounts better than times: an amount that fits is enough
    fitting = [tx for tx in recent if fits_amount(d, tx) and fits_time(d, tx)] or [
        tx for tx in recent if "amount" in d.slots and fits_amount(d, tx)
    ]
    if not fitting and ("amount" in d.slots or "around" in d.slots):
        problems = [tx for tx in recent if tx.status != "credited"]
        shown = (problems + [tx for tx in recent if tx.status == "credited"])[:4]
        return ask_which(d, "bot.recharge.not_matching", shown)
    candidates = fitting or recent
    wanted = (
        ("failed", "reversed")
        if d.flow == "recharge_failed"
        else ("pending", "failed", "reversed", "credited")
    )
    chosen = next(
        (tx for status in wanted for tx in candidates if tx.status == status), candidates[0]
    )
    return _explain(d, chosen)


def _pick(d: Dialog) -> Reply | None:
    chosen = picked(d)
    if chosen is None:
        return None
    return _explain(d, d.wallet.get_transaction(chosen))


def _explain(d: Dialog, chosen: TransactionView) -> Reply:
    answered_about(d, chosen.id)
    head = d.t(
        "bot.recharge.found",
        when=d.when(chosen.created_at),
        amount=d.money(chosen.amount),
        status=status_text(d, "topup", chosen.status),
    )
    reason = reason_text(d, chosen.status_reason)
    if reason:
        head += " " + d.t("bot.reason.because", reason=reason)
    if chosen.status == "pending":
        waited = d.now - chosen.created_at
        if waited >= timedelta(minutes=d.settings.bot_topup_stuck_minutes):
            return trace_stuck(d, "recharge_not_credited", head, chosen.id, "bot.recharge.traced")
        d.finish()
        return Reply(
            head + " " + d.t("bot.recharge.wait", minutes=d.settings.bot_topup_stuck_minutes)
        )
    if chosen.status == "credited":
        balance = d.wallet.get_account(actions.account_id(d)).balance
        d.finish()
        return Reply(head + " " + d.t("bot.recharge.credited", balance=d.money(balance)))
    if chosen.status == "failed":
        d.finish()
        return Reply(head + " " + d.t("bot.recharge.failed_advice"))
    return offer_case_or_person(d, head + " " + d.t("bot.recharge.reversed_advice"))


def _flow() -> Flow:
    return Flow(
        start=_start,
        verified=_lookup,
        steps={"amount": _amount, "pick_found": _pick, "offer_case": open_case_step},
    )


FLOWS = {"recharge_not_credited": _flow(), "recharge_failed": _flow()}
