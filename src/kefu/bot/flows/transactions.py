"""The customer's recent transactions, around the time they name."""

from __future__ import annotations

from datetime import datetime, timedelta

from kefu.bot import actions
from kefu.bot.dialog import Dialog, Reply
from kefu.bot.flows.common import Flow, collect_amount_and_time, tx_line, verify_then
from kefu.wallet.schemas import TransactionFilter


def _list(d: Dialog) -> Reply:
    since = until = None
    if "around" in d.slots:
        start = datetime.fromisoformat(str(d.slots["around"]))
        since, until = start - timedelta(hours=12), start + timedelta(days=1)
    flt = TransactionFilter(since=since or d.now - timedelta(days=30), until=until, limit=5)
    found = d.wallet.list_transactions(actions.account_id(d), flt)
    d.finish()
    if not found:
        return Reply(d.t("bot.tx.none"))
    return Reply(d.t("bot.tx.list") + "\n" + "\n".join(tx_line(d, tx) for tx in found))


def _start(d: Dialog) -> Reply:
    collect_amount_and_time(d)
    return verify_then(d, _list)


FLOWS = {"transaction_query": Flow(start=_start, verified=_list)}
