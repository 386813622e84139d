"""A transfer or withdrawal not arrived: found by the amount and time the customer names,
explained, traced when stuck too long."""

from __future__ import annotations

from datetime import timedelta

from kefu.bot import actions
from kefu.bot.dialog import Dialog, Reply
from kefu.bot.flows.common import (
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
    trace_stuck,
    tx_line,
    verify_then,
)
from kefu.wallet.schemas import TransactionFilter, TransactionView


def _lookup(d: Dialog) -> Reply:
    since = d.now - timedelta(days=30)
    account = actions.account_id(d)
    moves = [
        tx
        for kind in ("transfer", "withdrawal")
        for tx in d.wallet.list_transactions(
            account, TransactionFilter(kind=kind, since=since, limit=20)
        )
        if tx.direction == "out"
    ]
    moves.sort(key=lambda tx: tx.created_at, reverse=True)
    if not moves:
        return offer_case_or_person(d, d.t("bot.transfer.none_found"))
    said = "amount" in d.slots or "around" in d.slots
    fitting = [tx for tx in moves if fits_amount(d, tx) and fits_time(d, tx)] or [
        tx for tx in moves if "amount" in d.slots and fits_amount(d, tx)
    ]
    if said and not fitting:
        unsettled = [tx for tx in moves if tx.status in ("processing", "returned")]
        shown = (unsettled + [tx for tx in moves if tx not in unsettled])[:4]
        return ask_which(d, "bot.transfer.not_matching", shown)
    candidates = fitting or moves
    open_moves = [tx for tx in candidates if tx.status in ("processing", "returned")]
    if not open_moves:
        answered_about(d, candidates[0].id)
        d.finish()
        return Reply(d.t("bot.transfer.all_arrived", line=tx_line(d, candidates[0])))
    return _explain(d, open_moves[0])


def _start(d: Dialog) -> Reply:
    collect_amount_and_time(d)
    return verify_then(d, _lookup)


def _pick(d: Dialog) -> Reply | None:
    chosen = picked(d)
    if chosen is None:
        return None
    tx = d.wallet.get_transaction(chosen)
    if tx.status not in ("processing", "returned"):
        answered_about(d, tx.id)
        d.finish()
        return Reply(d.t("bot.transfer.all_arrived", line=tx_line(d, tx)))
    return _explain(d, tx)


def _explain(d: Dialog, tx: TransactionView) -> Reply:
    answered_about(d, tx.id)
    text = d.t("bot.transfer.found", line=tx_line(d, tx))
    reason = reason_text(d, tx.status_reason)
    if reason:
        text += " " + d.t("bot.reason.because", reason=reason)
    if tx.status == "returned":
        d.finish()
        return Reply(text + " " + d.t("bot.transfer.returned_advice"))
    if d.now - tx.created_at >= timedelta(hours=d.settings.bot_transfer_stuck_hours):
        return trace_stuck(d, "transfer_not_arrived", text, tx.id, "bot.transfer.traced")
    d.finish()
    return Reply(text + " " + d.t("bot.transfer.wait", hours=d.settings.bot_transfer_stuck_hours))


FLOWS = {
    "transfer_not_arrived": Flow(
        start=_start,
        verified=_lookup,
        steps={"pick_found": _pick, "offer_case": open_case_step},
    )
}
