"""猜你想问: the question a known customer most likely has, read from the account's recent
events, so the assistant can open with it ("Is this about your ¥500 top-up yesterday at
21:04? It is still at the bank…") and the customer confirms with one tap.

Events are weighed by how much they hurt and how recent they are: a blocked account first,
then money that left and has not arrived, then security alerts, then an open case.
"""

from __future__ import annotations

from datetime import timedelta

from kefu.bot.dialog import Dialog
from kefu.cases import service as cases
from kefu.cases.transitions import FINISHED, Status
from kefu.identity import service as identity_service
from kefu.wallet.schemas import TransactionFilter

RECENT = timedelta(days=3)


Guess = tuple[str, str, dict[str, str]]


def likely_question(d: Dialog) -> Guess | None:
    """(intent to start when confirmed, the opening question, facts the flow then need not
    ask for), or None."""
    customer = identity_service.get_customer(d.db, d.customer_id)
    account_id = customer.wallet_account_id
    account = d.wallet.get_account(account_id)
    if account.status == "locked":
        return "account_locked", d.t("bot.opener.locked"), {}
    if account.status == "frozen":
        return "account_locked", d.t("bot.opener.frozen"), {}
    since = d.now - RECENT
    recent = d.wallet.list_transactions(account_id, TransactionFilter(since=since, limit=50))
    for tx in recent:
        if tx.kind == "topup" and tx.status == "pending":
            question = d.t(
                "bot.opener.topup_pending", amount=d.money(tx.amount), when=d.when(tx.created_at)
            )
            return "recharge_not_credited", question, {"amount": f"{tx.amount:.2f}"}
    for tx in recent:
        if tx.kind == "payment" and tx.status == "deducted_failed":
            return (
                "payment_failed",
                d.t(
                    "bot.opener.deducted",
                    amount=d.money(tx.amount),
                    when=d.when(tx.created_at),
                    counterparty=tx.counterparty,
                ),
                {},
            )
    for tx in recent:
        if tx.kind in ("transfer", "withdrawal") and tx.status in ("processing", "returned"):
            return (
                "transfer_not_arrived",
                d.t("bot.opener.transfer", amount=d.money(tx.amount), when=d.when(tx.created_at)),
                {},
            )
    for tx in recent:
        if tx.kind == "topup" and tx.status == "failed":
            question = d.t(
                "bot.opener.topup_failed", amount=d.money(tx.amount), when=d.when(tx.created_at)
            )
            return "recharge_failed", question, {"amount": f"{tx.amount:.2f}"}
    logins = d.wallet.login_events(account_id, limit=10)
    known_devices = {e.device for e in logins[3:] if e.succeeded}
    for event in logins[:3] if len(logins) > 3 else []:  # a first login ever is not "new"
        if event.succeeded and d.now - event.at < RECENT and event.device not in known_devices:
            return (
                "suspicious_login",
                d.t(
                    "bot.opener.new_device",
                    device=event.device,
                    city=event.city,
                    when=d.when(event.at),
                ),
                {},
            )
    for refund in d.wallet.list_refunds(account_id):
        if refund.status == "rejected" and d.now - refund.updated_at < timedelta(days=14):
            return "refund", d.t("bot.opener.refund_rejected", amount=d.money(refund.amount)), {}
    for case in cases.list_cases(d.db, flt=cases.CaseFilter(customer_id=customer.id), limit=5):
        if Status(case.status) not in FINISHED:
            question = d.t("bot.opener.open_case", reference=case.reference)
            return "case_status", question, {"reference": case.reference}
    return None
