"""The guided flows: one per problem that needs the customer's account or a case.

A flow has a start (the first message that named the problem), steps (each answers the
customer's next message, or returns None when the message does not fit, so the dialog can
treat it as a change of mind), and the point it resumes at once the customer is verified.
Every look-up and action happens only after a fresh verification, through the wallet port.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from kefu.bot import actions, identity_step
from kefu.bot.dialog import Dialog, QuickReply, Reply
from kefu.cases import tracking
from kefu.cases.errors import CaseNotFound
from kefu.errors import InvalidInput, KefuError
from kefu.identity import service as identity_service
from kefu.support import account as support_account
from kefu.support import money, trace
from kefu.wallet.schemas import TransactionFilter, TransactionView

Step = Callable[[Dialog], Reply | None]
Act = Callable[[Dialog], Reply]
YES, NO, SKIP = "yes", "no", "skip"
_NUMBERISH = re.compile(r"\+?\d[\d\s\-]{3,18}\d")
# a number standing alone that is no time, date, count or duration ("the 300 I topped up")
_BARE_AMOUNT = re.compile(
    r"(?<![\d.:/\-+])(\d{1,6}(?:\.\d{1,2})?)(?![\d.:/\-]|\s*(?:点|點|号|號|日|月|年|分|秒|小时|"
    r"小時|个|個|天|周|週|位|次|笔|筆|%|h\b|hrs?\b|hours?\b|mins?\b|minutes?\b|days?\b|"
    r"weeks?\b|am\b|pm\b|st\b|nd\b|rd\b|th\b|times?\b))",
    re.I,
)
_PLAIN_AMOUNT = re.compile(r"^\s*[¥￥]?\s*(\d{1,9}(?:\.\d{1,2})?)\s*(?:元|块|rmb|yuan)?\s*$", re.I)
# short typed answers to a yes/no question (taps send "yes"/"no" themselves)
_YES_WORDS = {
    "yes", "y", "yeah", "yep", "ok", "okay", "sure", "please", "yes please", "please do",
    "go ahead", "do it", "it was me", "that was me", "me", "correct", "right",
    "是", "是的", "对", "对的", "好", "好的", "嗯", "嗯嗯", "确认", "可以", "可以的", "要", "要的",
    "需要", "行", "没问题", "好吧", "是我", "是我本人", "本人", "我本人", "就是这个",
}  # fmt: skip
_NO_WORDS = {
    "no", "n", "nope", "no thanks", "no thank you", "not now", "don't", "not me", "it wasn't me",
    "wasn't me", "that wasn't me", "not mine",
    "不", "不是", "不用", "不要", "否", "没有", "不需要", "先不用", "暂时不用", "不是我",
    "不是本人", "不是我本人", "不是我的", "不对",
}  # fmt: skip


@dataclass
class Flow:
    start: Act
    verified: Act | None = None  # resume point after the identity check
    steps: dict[str, Step] = field(default_factory=dict)


def answer(d: Dialog) -> str | None:
    """yes / no from a tap or a short typed answer, else None."""
    text = " ".join(d.text.strip().lower().rstrip("。.!！~～,，").split())
    if text in (YES, NO):
        return text
    if text in _YES_WORDS:
        return YES
    if text in _NO_WORDS:
        return NO
    return None


def yes_no(
    d: Dialog, yes_key: str = "bot.choice.yes", no_key: str = "bot.choice.no"
) -> list[QuickReply]:
    return [d.option(yes_key, YES), d.option(no_key, NO)]


def amount_in(d: Dialog, *, bare: bool = False) -> Decimal | None:
    """The amount in the message; ``bare``: also a number standing alone, as in "the 300 I
    topped up" (in a money flow a bare number that is no time, date or count is one)."""
    if d.entities.amounts:
        return d.entities.amounts[0].value
    match = _PLAIN_AMOUNT.match(d.text) or (_BARE_AMOUNT.search(d.text) if bare else None)
    if match:
        try:
            value = Decimal(match.group(1))
        except InvalidOperation:
            return None
        return value if value > 0 else None
    return None


def _collect_amount_and_time(d: Dialog) -> None:
    amount = amount_in(d, bare=True)
    if amount is not None:
        d.slots["amount"] = f"{amount:.2f}"
    if d.entities.times:
        mention = d.entities.times[0]
        d.slots["around"] = mention.start.isoformat()
        d.slots["until"] = mention.end.isoformat()
        d.slots["time_text"] = mention.text


def _fits_amount(d: Dialog, tx: TransactionView) -> bool:
    amount = d.slots.get("amount")
    return amount is None or Decimal(str(tx.amount)) == Decimal(str(amount))


def _fits_time(d: Dialog, tx: TransactionView) -> bool:
    """Within the time the customer named, give or take a few hours ("last night" may be
    just after midnight)."""
    from datetime import datetime

    start, end = d.slots.get("around"), d.slots.get("until")
    if not isinstance(start, str):
        return True
    until = datetime.fromisoformat(end) if isinstance(end, str) else None
    since = datetime.fromisoformat(start)
    slack = timedelta(hours=3)
    return since - slack <= tx.created_at <= (until or since + timedelta(days=1)) + slack


def _what_was_asked(d: Dialog) -> str:
    said = []
    if "time_text" in d.slots:
        said.append(str(d.slots["time_text"]))
    if "amount" in d.slots:
        said.append(d.money(str(d.slots["amount"])))
    return " ".join(said)


def _ask_which(d: Dialog, key: str, found: list[TransactionView]) -> Reply:
    """Nothing fits what the customer said: say so, show what there is, ask which one."""
    d.goto("pick_found")
    d.slots["offered"] = [tx.id for tx in found]
    return Reply(
        d.t(key, asked=_what_was_asked(d))
        + "\n"
        + "\n".join(f"{n}. {_line(d, tx)}" for n, tx in enumerate(found, 1))
        + "\n"
        + d.t("bot.found.which"),
        input="choice",
        quick_replies=[QuickReply(label=_line(d, tx), value=f"tx:{tx.id}") for tx in found]
        + [d.option("bot.choice.none_of_these", "human_agent")],
    )


def answered_about(d: Dialog, transaction_id: str) -> None:
    """The item this flow answers about: if the customer pushes back on the answer, the
    assistant traces this one (kefu.bot.service)."""
    d.slots["transaction_id"] = transaction_id
    d.state["item"] = {"intent": d.flow, "transaction_id": transaction_id}


def _picked(d: Dialog) -> str | None:
    """The transaction the customer picked from those offered (a tap or its number)."""
    value = d.text.strip()
    offered = [str(o) for o in d.slots.get("offered") or []]
    chosen = value[3:] if value.startswith("tx:") else None
    if chosen is None and value.isdigit() and 1 <= int(value) <= len(offered):
        chosen = offered[int(value) - 1]
    return chosen if chosen in offered else None


def _verify_then(d: Dialog, resume: Act) -> Reply:
    asked = identity_step.require(d, "verified")
    return asked if asked is not None else resume(d)


def _status(d: Dialog, kind: str, status: str) -> str:
    return d.t(f"bot.status.{kind}.{status}")


def _reason(d: Dialog, reason: str | None) -> str:
    if not reason:
        return ""
    text = d.t(f"bot.reason.{reason}")
    return text if text != f"bot.reason.{reason}" else reason


def _line(d: Dialog, tx: TransactionView) -> str:
    return d.t(
        "bot.tx.line",
        when=d.when(tx.created_at),
        counterparty=tx.counterparty,
        amount=d.money(tx.amount),
        status=_status(d, tx.kind, tx.status),
    )


def _offer_case_or_person(d: Dialog, text: str) -> Reply:
    d.goto("offer_case")
    return Reply(
        text,
        quick_replies=[
            d.option("bot.choice.open_case", "open_case"),
            d.option("bot.choice.person", "human_agent"),
        ],
    )


def _open_case_step(d: Dialog) -> Reply | None:
    if d.text.strip() != "open_case" and answer(d) != YES:
        return None
    intent = d.flow or "complaint"
    case = actions.open_case(
        d,
        intent=intent,
        subject=actions.case_subject(d, intent),
        description=d.t(
            "bot.case.facts",
            facts=", ".join(f"{k}={v}" for k, v in actions.facts(d).items()) or "-",
        ),
        links=tuple(("transaction", str(v)) for k, v in d.slots.items() if k == "transaction_id"),
    )
    d.finish()
    return Reply(
        d.t("bot.case.opened") + " " + actions.committed(d, case), case_reference=case.reference
    )


# --- recharge not credited / failed -------------------------------------------------------
def _recharge_start(d: Dialog) -> Reply:
    _collect_amount_and_time(d)
    if "amount" not in d.slots:
        d.goto("amount")
        return Reply(
            d.t("bot.recharge.ask_amount"),
            quick_replies=[d.option("bot.choice.dont_remember", SKIP)],
        )
    return _verify_then(d, _recharge_lookup)


def _recharge_amount(d: Dialog) -> Reply | None:
    if d.text.strip() != SKIP:
        _collect_amount_and_time(d)
        if "amount" not in d.slots:
            return None
    return _verify_then(d, _recharge_lookup)


def _recharge_lookup(d: Dialog) -> Reply:
    account = actions.account_id(d)
    recent = [
        tx for tx in d.wallet.find_top_ups(account) if d.now - tx.created_at < timedelta(days=30)
    ]
    if not recent:
        return _offer_case_or_person(d, d.t("bot.recharge.none_found"))
    # people remember amounts better than times: an amount that fits is enough
    fitting = [tx for tx in recent if _fits_amount(d, tx) and _fits_time(d, tx)] or [
        tx for tx in recent if "amount" in d.slots and _fits_amount(d, tx)
    ]
    if not fitting and ("amount" in d.slots or "around" in d.slots):
        problems = [tx for tx in recent if tx.status != "credited"]
        shown = (problems + [tx for tx in recent if tx.status == "credited"])[:4]
        return _ask_which(d, "bot.recharge.not_matching", shown)
    candidates = fitting or recent
    wanted = (
        ("failed", "reversed")
        if d.flow == "recharge_failed"
        else ("pending", "failed", "reversed", "credited")
    )
    chosen = next(
        (tx for status in wanted for tx in candidates if tx.status == status), candidates[0]
    )
    return _recharge_explain(d, chosen)


def _recharge_pick(d: Dialog) -> Reply | None:
    chosen = _picked(d)
    if chosen is None:
        return None
    return _recharge_explain(d, d.wallet.get_transaction(chosen))


def _recharge_explain(d: Dialog, chosen: TransactionView) -> Reply:
    answered_about(d, chosen.id)
    head = d.t(
        "bot.recharge.found",
        when=d.when(chosen.created_at),
        amount=d.money(chosen.amount),
        status=_status(d, "topup", chosen.status),
    )
    reason = _reason(d, chosen.status_reason)
    if reason:
        head += " " + d.t("bot.reason.because", reason=reason)
    if chosen.status == "pending":
        waited = d.now - chosen.created_at
        if waited >= timedelta(minutes=d.settings.bot_topup_stuck_minutes):
            return _trace(d, "recharge_not_credited", head, chosen.id, "bot.recharge.traced")
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
    return _offer_case_or_person(d, head + " " + d.t("bot.recharge.reversed_advice"))


def _trace(d: Dialog, intent: str, found: str, transaction_id: str, traced_key: str) -> Reply:
    """A money movement stuck longer than it should be: the conversation's case, on which
    the support layer traces it (link, audit row, note), with what was found and the
    committed time told."""
    case = actions.open_case(
        d, intent=intent, subject=actions.case_subject(d, intent), description=found
    )
    asked = replace(actions.asked(d, "trace", transaction_id), case_reference=case.reference)
    trace.trace(
        actions.money_desk(d),
        asked,
        transaction_id=transaction_id,
        senders=d.senders,
        channel="chat",
    )
    d.finish()
    return Reply(
        found + " " + d.t(traced_key) + " " + actions.committed(d, case),
        case_reference=case.reference,
    )


# --- payment failed / deducted ------------------------------------------------------------
def _payment_lookup(d: Dialog) -> Reply:
    payments = d.wallet.list_transactions(
        actions.account_id(d),
        TransactionFilter(kind="payment", since=d.now - timedelta(days=30), limit=20),
    )
    deducted = [tx for tx in payments if tx.status == "deducted_failed"]
    failed = [tx for tx in payments if tx.status == "failed"]
    if deducted:
        tx = deducted[0]
        d.slots["transaction_id"] = tx.id
        found = {"line": _line(d, tx), "reason": _reason(d, tx.status_reason) or "-"}
        if actions.money_desk(d).above_limit(tx.amount):
            # as for an agent: a return this large waits for a supervisor
            return _offer_case_or_person(d, d.t("bot.payment.deducted_review", **found))
        d.goto("confirm_reverse")
        return Reply(
            d.t("bot.payment.deducted", **found),
            quick_replies=yes_no(d, "bot.choice.return_money"),
        )
    if failed:
        tx = failed[0]
        answered_about(d, tx.id)
        d.finish()
        return Reply(
            d.t("bot.payment.failed", line=_line(d, tx), reason=_reason(d, tx.status_reason) or "-")
        )
    return _offer_case_or_person(d, d.t("bot.payment.none_found"))


def _payment_reverse(d: Dialog) -> Reply | None:
    choice = answer(d)
    if choice is None:
        return None
    if choice == NO:
        d.finish()
        return Reply(d.t("bot.ok_anything_else"))
    transaction_id = str(d.slots["transaction_id"])
    try:
        done = money.reverse_payment(
            actions.money_desk(d),
            actions.asked(d, "reverse", transaction_id),
            payment_id=transaction_id,
        )
    except money.NeedsSupervisor:
        # what the customer's account had returned today leaves this one to a supervisor
        return _offer_case_or_person(d, d.t("bot.payment.review"))
    tx = done.view
    d.finish()
    return Reply(d.t("bot.payment.reversed", amount=d.money(tx.amount)))


# --- transfer not arrived -----------------------------------------------------------------
def _transfer_lookup(d: Dialog) -> Reply:
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
        return _offer_case_or_person(d, d.t("bot.transfer.none_found"))
    said = "amount" in d.slots or "around" in d.slots
    fitting = [tx for tx in moves if _fits_amount(d, tx) and _fits_time(d, tx)] or [
        tx for tx in moves if "amount" in d.slots and _fits_amount(d, tx)
    ]
    if said and not fitting:
        unsettled = [tx for tx in moves if tx.status in ("processing", "returned")]
        shown = (unsettled + [tx for tx in moves if tx not in unsettled])[:4]
        return _ask_which(d, "bot.transfer.not_matching", shown)
    candidates = fitting or moves
    open_moves = [tx for tx in candidates if tx.status in ("processing", "returned")]
    if not open_moves:
        answered_about(d, candidates[0].id)
        d.finish()
        return Reply(d.t("bot.transfer.all_arrived", line=_line(d, candidates[0])))
    return _transfer_explain(d, open_moves[0])


def _transfer_start(d: Dialog) -> Reply:
    _collect_amount_and_time(d)
    return _verify_then(d, _transfer_lookup)


def _transfer_pick(d: Dialog) -> Reply | None:
    chosen = _picked(d)
    if chosen is None:
        return None
    tx = d.wallet.get_transaction(chosen)
    if tx.status not in ("processing", "returned"):
        answered_about(d, tx.id)
        d.finish()
        return Reply(d.t("bot.transfer.all_arrived", line=_line(d, tx)))
    return _transfer_explain(d, tx)


def _transfer_explain(d: Dialog, tx: TransactionView) -> Reply:
    answered_about(d, tx.id)
    text = d.t("bot.transfer.found", line=_line(d, tx))
    reason = _reason(d, tx.status_reason)
    if reason:
        text += " " + d.t("bot.reason.because", reason=reason)
    if tx.status == "returned":
        d.finish()
        return Reply(text + " " + d.t("bot.transfer.returned_advice"))
    if d.now - tx.created_at >= timedelta(hours=d.settings.bot_transfer_stuck_hours):
        return _trace(d, "transfer_not_arrived", text, tx.id, "bot.transfer.traced")
    d.finish()
    return Reply(text + " " + d.t("bot.transfer.wait", hours=d.settings.bot_transfer_stuck_hours))


# --- refunds ------------------------------------------------------------------------------
def _refund_lookup(d: Dialog) -> Reply:
    refunds = sorted(
        d.wallet.list_refunds(actions.account_id(d)), key=lambda r: r.created_at, reverse=True
    )
    if not refunds:
        return _offer_case_or_person(d, d.t("bot.refund.none_found"))
    refund = refunds[0]
    d.slots["refund_id"] = refund.id
    answered_about(d, refund.transaction_id)
    text = d.t(
        "bot.refund.found",
        when=d.when(refund.created_at),
        amount=d.money(refund.amount),
        status=_status(d, "refund", refund.status),
    )
    if refund.status == "rejected":
        reason = _reason(d, refund.decision_reason)
        if reason:
            text += " " + d.t("bot.reason.because", reason=reason)
        d.goto("offer_review")
        return Reply(
            text + " " + d.t("bot.refund.offer_review"),
            quick_replies=yes_no(d, "bot.choice.review"),
        )
    d.finish()
    return Reply(text + " " + d.t(f"bot.refund.next.{refund.status}"))


def _refund_review(d: Dialog) -> Reply | None:
    choice = answer(d)
    if choice is None:
        return None
    if choice == NO:
        d.finish()
        return Reply(d.t("bot.ok_anything_else"))
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


# --- transaction query --------------------------------------------------------------------
def _transactions(d: Dialog) -> Reply:
    since = until = None
    if "around" in d.slots:
        from datetime import datetime

        start = datetime.fromisoformat(str(d.slots["around"]))
        since, until = start - timedelta(hours=12), start + timedelta(days=1)
    flt = TransactionFilter(since=since or d.now - timedelta(days=30), until=until, limit=5)
    found = d.wallet.list_transactions(actions.account_id(d), flt)
    d.finish()
    if not found:
        return Reply(d.t("bot.tx.none"))
    return Reply(d.t("bot.tx.list") + "\n" + "\n".join(_line(d, tx) for tx in found))


def _transactions_start(d: Dialog) -> Reply:
    _collect_amount_and_time(d)
    return _verify_then(d, _transactions)


# --- unauthorised transaction -------------------------------------------------------------
def _unauthorised_list(d: Dialog) -> Reply:
    found = d.wallet.list_transactions(
        actions.account_id(d), TransactionFilter(since=d.now - timedelta(days=30), limit=20)
    )
    outgoing = [
        tx
        for tx in found
        if tx.direction == "out" and tx.status in ("succeeded", "processing", "arrived")
    ][:4]
    if not outgoing:
        return _offer_case_or_person(d, d.t("bot.tx.none"))
    d.goto("pick_transaction")
    d.slots["offered"] = [tx.id for tx in outgoing]
    return Reply(
        d.t("bot.unauthorised.pick"),
        input="choice",
        quick_replies=[QuickReply(label=_line(d, tx), value=f"tx:{tx.id}") for tx in outgoing]
        + [d.option("bot.choice.none_of_these", "human_agent")],
    )


def _unauthorised_pick(d: Dialog) -> Reply | None:
    value = d.text.strip()
    offered = d.slots.get("offered") or []
    chosen = value[3:] if value.startswith("tx:") else None
    if chosen is None and value.isdigit() and 1 <= int(value) <= len(offered):
        chosen = offered[int(value) - 1]
    if chosen not in offered:
        return None
    d.slots["transaction_id"] = chosen
    d.goto("confirm_freeze")
    return Reply(
        d.t("bot.unauthorised.offer_freeze"),
        quick_replies=yes_no(d, "bot.choice.freeze_now", "bot.choice.no_freeze"),
    )


def _unauthorised_freeze(d: Dialog) -> Reply | None:
    choice = answer(d)
    if choice is None:
        return None
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
    if choice == YES:
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
        + (" " + after_freeze(d) if choice == YES else ""),
        case_reference=case.reference,
    )


def after_freeze(d: Dialog) -> str:
    """What a frozen account's owner does next, in the order it can be done: how the freeze
    is lifted first, the new password once it is (a frozen account cannot be reset)."""
    return d.t("bot.unfreeze.how") + " " + d.t("bot.unfreeze.then_password")


# --- account stolen: freeze at once after a light check ----------------------------------
def _stolen_start(d: Dialog) -> Reply:
    d.conversation.urgent = True
    if d.conversation.customer_id is not None:
        return _stolen_freeze(d, d.conversation.customer_id)
    phone = d.entities.phones[0] if d.entities.phones else None
    if phone:
        return _stolen_by_phone(d, phone)
    d.goto("phone")
    return Reply(d.t("bot.stolen.ask_phone"))


def _stolen_phone(d: Dialog) -> Reply | None:
    phone = d.entities.phones[0] if d.entities.phones else None
    if phone is None:
        return None
    return _stolen_by_phone(d, phone)


def _stolen_by_phone(d: Dialog, phone: str) -> Reply:
    from kefu import ratelimit
    from kefu.masking import mask_destination

    ratelimit.hit(
        d.db,
        bucket="bot.emergency_freeze",
        key=phone,
        limit=3,
        window_seconds=3600,
        secret=d.settings.secret_key,
        now=d.now,
    )
    d.slots["phone"] = mask_destination(phone)
    customer = identity_service.find_customer_by_contact(d.db, phone)
    if customer is not None:
        _freeze_now(d, customer.id)
    # the same words whether or not the number has an account: the chat reveals nobody
    return _stolen_reply(d)


def _freeze_now(d: Dialog, customer_id: int) -> None:
    """Freezing only protects, so a light check is enough (the support layer's emergency
    requester, who may freeze and nothing else); unfreezing needs full review."""
    account = identity_service.get_customer(d.db, customer_id).wallet_account_id
    if d.wallet.get_account(account).status != "frozen":
        support_account.freeze(
            actions.money_desk(d),
            actions.in_emergency(d, account, customer_id),
            account_id=account,
            reason="stolen",
        )
    d.slots["frozen"] = "yes"


def _stolen_freeze(d: Dialog, customer_id: int) -> Reply:
    _freeze_now(d, customer_id)
    return _stolen_reply(d)


def _stolen_reply(d: Dialog) -> Reply:
    text = d.t("bot.stolen.frozen_if_registered") + " " + after_freeze(d)
    handed = actions.hand_over(d, reason="account_stolen", urgent=True)
    return Reply(text + "\n" + handed.text, handoff=True, case_reference=handed.case_reference)


# --- account locked, password reset, login failed -----------------------------------------
def _locked_check(d: Dialog) -> Reply:
    account = d.wallet.get_account(actions.account_id(d))
    if account.status == "locked":
        reason = _reason(d, account.status_reason)
        if account.status_reason in ("wrong_passwords", "inactivity"):
            d.goto("confirm_unlock")
            return Reply(
                d.t("bot.locked.explain", reason=reason) + " " + d.t("bot.locked.offer_unlock"),
                quick_replies=yes_no(d, "bot.choice.unlock"),
            )
        return actions.hand_over(d, reason="locked_security_check", tier="tier2")
    if account.status == "frozen":
        return actions.hand_over(d, reason="frozen_needs_review", tier="tier2")
    d.goto("offer_reset")
    return Reply(d.t("bot.locked.not_locked"), quick_replies=yes_no(d, "bot.choice.reset_password"))


def _unlock(d: Dialog) -> Reply | None:
    choice = answer(d)
    if choice is None:
        return None
    if choice == NO:
        d.finish()
        return Reply(d.t("bot.ok_anything_else"))
    account = actions.account_id(d)
    support_account.unlock(
        actions.money_desk(d), actions.asked(d, "unlock", account), account_id=account
    )
    d.goto("offer_reset")
    return Reply(d.t("bot.locked.unlocked"), quick_replies=yes_no(d, "bot.choice.reset_password"))


def _reset(d: Dialog) -> Reply:
    account_id = actions.account_id(d)
    account = d.wallet.get_account(account_id)
    if account.status == "locked":
        return _locked_check(d)
    if account.status == "frozen":
        return actions.hand_over(d, reason="frozen_needs_review", tier="tier2")
    started = support_account.start_password_reset(
        actions.money_desk(d),
        actions.asked(d, "password-reset", account_id),
        account_id=account_id,
    )
    if started.password_reset_at != account.password_reset_at:  # not a repeated "yes"
        _send_reset_message(d)
    d.finish()
    return Reply(d.t("bot.reset.started", phone=account.phone_masked))


def _send_reset_message(d: Dialog) -> None:
    """The reset message on the registered phone (the wallet app finishes the reset), with
    the official hotline for a customer who did not ask for it."""
    from kefu.antifraud import service as antifraud
    from kefu.channels.message import OutgoingMessage

    phone = identity_service.get_customer(d.db, d.customer_id).phone
    if not phone:
        return
    hotline = next((c.value for c in antifraud.contact_channels(d.db) if c.kind == "phone"), "")
    d.senders.sms.send(
        d.db,
        OutgoingMessage(
            to=phone,
            purpose="password_reset",
            body=d.t("bot.reset.sms", minutes=30, hotline=hotline or "-"),
        ),
    )


def _offer_reset(d: Dialog) -> Reply | None:
    choice = answer(d)
    if choice is None:
        return None
    if choice == NO:
        d.finish()
        return Reply(d.t("bot.ok_anything_else"))
    return _reset(d)


def _login_failed_start(d: Dialog) -> Reply:
    d.goto("offer_check")
    return Reply(d.t("bot.login.tips"), quick_replies=yes_no(d, "bot.choice.check_account"))


def _login_offer_check(d: Dialog) -> Reply | None:
    choice = answer(d)
    if choice is None:
        return None
    if choice == NO:
        d.finish()
        return Reply(d.t("bot.ok_anything_else"))
    return _verify_then(d, _locked_check)


# --- suspicious login ---------------------------------------------------------------------
def _logins(d: Dialog) -> Reply:
    events = [e for e in d.wallet.login_events(actions.account_id(d), limit=10) if e.succeeded][:3]
    if not events:
        d.finish()
        return Reply(d.t("bot.login.none") + " " + d.t("bot.security.tips"))
    lines = "\n".join(
        d.t("bot.login.line", when=d.when(e.at), device=e.device, city=e.city) for e in events
    )
    d.goto("was_it_you")
    return Reply(
        d.t("bot.login.recent") + "\n" + lines + "\n" + d.t("bot.login.was_it_you"),
        quick_replies=yes_no(d, "bot.choice.it_was_me", "bot.choice.not_me"),
    )


def _was_it_you(d: Dialog) -> Reply | None:
    choice = answer(d)
    if choice is None:
        return None
    if choice == YES:
        d.finish()
        return Reply(d.t("bot.login.fine") + " " + d.t("bot.security.tips"))
    account = actions.account_id(d)
    if d.wallet.get_account(account).status != "frozen":
        support_account.freeze(
            actions.money_desk(d),
            actions.asked(d, "freeze", account),
            account_id=account,
            reason="risk",
        )
    case = actions.open_case(
        d,
        intent="suspicious_login",
        subject=actions.case_subject(d, "suspicious_login"),
        description=d.t("bot.login.case_text"),
        priority="high",
    )
    d.finish()
    return Reply(
        d.t("bot.frozen")
        + " "
        + d.t("bot.login.after_freeze")
        + " "
        + actions.committed(d, case)
        + " "
        + after_freeze(d),
        case_reference=case.reference,
    )


# --- case status --------------------------------------------------------------------------
def _case_start(d: Dialog) -> Reply:
    if d.entities.references:
        d.slots["reference"] = d.entities.references[0]
        return _verify_then(d, _case_track)
    if d.entities.mistyped_references:
        d.goto("reference")
        return Reply(d.t("bot.case.mistyped", reference=d.entities.mistyped_references[0]))
    if d.conversation.customer_id is not None:
        return _verify_then(d, _case_track)
    d.goto("reference")
    return Reply(d.t("bot.case.ask_reference"))


def _case_reference(d: Dialog) -> Reply | None:
    if d.entities.references:
        d.slots["reference"] = d.entities.references[0]
        return _verify_then(d, _case_track)
    if d.entities.mistyped_references:
        return Reply(d.t("bot.case.mistyped", reference=d.entities.mistyped_references[0]))
    return None


def _case_track(d: Dialog) -> Reply:
    reference = d.slots.get("reference")
    d.finish()
    if not isinstance(reference, str):
        mine = tracking.my_cases(d.db, customer_id=d.customer_id, lang=d.lang, limit=3)
        if not mine:
            return Reply(d.t("bot.case.none"))
        return Reply(
            d.t("bot.case.yours")
            + "\n"
            + "\n".join(
                d.t(
                    "bot.case.line",
                    reference=c.reference,
                    category=c.category_name,
                    status=c.status_name,
                )
                for c in mine
            )
        )
    try:
        tracked = tracking.track(
            d.db, customer_id=d.customer_id, reference=reference, settings=d.settings, lang=d.lang
        )
    except CaseNotFound:
        return Reply(d.t("bot.case.not_found", reference=reference))
    latest = next((e.body for e in reversed(tracked.timeline) if e.body), "")
    return Reply(
        d.t(
            "bot.case.status",
            reference=tracked.reference,
            category=tracked.category_name,
            status=tracked.status_name,
        )
        + " "
        + tracked.committed_text
        + (("\n" + d.t("bot.case.latest", text=latest[:300])) if latest else ""),
        case_reference=tracked.reference,
    )


# --- complaint ----------------------------------------------------------------------------
def _complaint_start(d: Dialog) -> Reply:
    if len(d.text) >= 30:
        d.slots["details"] = d.text[:2000]
        return _verify_then(d, _complaint_open)
    d.goto("details")
    return Reply(d.t("bot.complaint.ask_details"))


def _complaint_details(d: Dialog) -> Reply | None:
    d.slots["details"] = d.text[:2000]
    return _verify_then(d, _complaint_open)


def _complaint_open(d: Dialog) -> Reply:
    case = actions.open_case(
        d,
        intent="complaint",
        subject=actions.case_subject(d, "complaint"),
        description=str(d.slots.get("details") or d.text),
    )
    d.finish()
    return Reply(
        d.t("bot.complaint.opened")
        + " "
        + actions.committed(d, case)
        + " "
        + d.t("bot.complaint.evidence"),
        case_reference=case.reference,
    )


# --- is this number / site really yours? --------------------------------------------------
def _official_start(d: Dialog) -> Reply:
    reply = _official_value(d)
    if reply is not None:
        return reply
    d.goto("value")
    return Reply(d.t("bot.verify_official.ask"))


def official_candidates(d: Dialog) -> list[str]:
    """The numbers, sites and addresses in the message that could be asked about."""
    return [
        *d.entities.urls,
        *d.entities.emails,
        *d.entities.phones,
        # service numbers (95xxx, 400/800) and names the phone parser does not know
        *_NUMBERISH.findall(d.text),
    ]


def _official_value(d: Dialog) -> Reply | None:
    """Official or not, from the registry; for a verified customer asking about a phone
    number, also whether one of our agents is really calling them."""
    from kefu.antifraud import service as antifraud

    result = None
    for value in official_candidates(d):
        try:
            result = antifraud.verify(
                d.db,
                value.strip(),
                lang=d.lang,
                client_key=f"conversation:{d.conversation.id}",
                settings=d.settings,
                now=d.now,
            )
        except InvalidInput:
            continue
        break
    if result is None:
        return None
    values = [result.value]
    text = f"{result.reason} {result.advice}".strip()
    if result.verdict != "official":
        text += _the_official_ones(d, result.kind)
    if result.kind == "phone" and d.verified:
        confirmation = antifraud.confirm_call(
            d.db, d.customer_id, lang=d.lang, number=values[0], now=d.now, settings=d.settings
        )
        text += "\n" + confirmation.message
    d.finish()
    return Reply(text)


def _the_official_ones(d: Dialog, kind: str) -> str:
    """Not ours: the official channels of the same kind from the registry (the hotlines
    for a phone number, the website for a site), so the customer knows where to turn."""
    from kefu.antifraud import service as antifraud

    channels = antifraud.contact_channels(d.db)
    same = [c for c in channels if c.kind == kind and (kind != "phone" or c.role == "hotline")]
    shown = same or [c for c in channels if c.kind == "phone" and c.role == "hotline"]
    if not shown:
        return ""
    lines = [
        f"{channel.label(d.lang)}: {channel.value}"
        + (f" ({notes})" if (notes := channel.notes(d.lang)) else "")
        for channel in shown
    ]
    return "\n" + d.t("bot.verify_official.ours") + "\n" + "\n".join(lines)


FLOWS: dict[str, Flow] = {
    "verify_official": Flow(start=_official_start, steps={"value": _official_value}),
    "recharge_not_credited": Flow(
        start=_recharge_start,
        verified=_recharge_lookup,
        steps={
            "amount": _recharge_amount,
            "pick_found": _recharge_pick,
            "offer_case": _open_case_step,
        },
    ),
    "recharge_failed": Flow(
        start=_recharge_start,
        verified=_recharge_lookup,
        steps={
            "amount": _recharge_amount,
            "pick_found": _recharge_pick,
            "offer_case": _open_case_step,
        },
    ),
    "payment_failed": Flow(
        start=lambda d: _verify_then(d, _payment_lookup),
        verified=_payment_lookup,
        steps={"confirm_reverse": _payment_reverse, "offer_case": _open_case_step},
    ),
    "transfer_not_arrived": Flow(
        start=_transfer_start,
        verified=_transfer_lookup,
        steps={"pick_found": _transfer_pick, "offer_case": _open_case_step},
    ),
    "refund": Flow(
        start=lambda d: _verify_then(d, _refund_lookup),
        verified=_refund_lookup,
        steps={"offer_review": _refund_review, "offer_case": _open_case_step},
    ),
    "transaction_query": Flow(start=_transactions_start, verified=_transactions),
    "unauthorized_transaction": Flow(
        start=lambda d: _verify_then(d, _unauthorised_list),
        verified=_unauthorised_list,
        steps={
            "pick_transaction": _unauthorised_pick,
            "confirm_freeze": _unauthorised_freeze,
            "offer_case": _open_case_step,
        },
    ),
    "account_stolen": Flow(start=_stolen_start, steps={"phone": _stolen_phone}),
    "account_locked": Flow(
        start=lambda d: _verify_then(d, _locked_check),
        verified=_locked_check,
        steps={"confirm_unlock": _unlock, "offer_reset": _offer_reset},
    ),
    "password_reset": Flow(
        start=lambda d: _verify_then(d, _reset),
        verified=_reset,
        steps={"confirm_unlock": _unlock, "offer_reset": _offer_reset},
    ),
    "login_failed": Flow(
        start=_login_failed_start,
        verified=_locked_check,
        steps={
            "offer_check": _login_offer_check,
            "confirm_unlock": _unlock,
            "offer_reset": _offer_reset,
        },
    ),
    "suspicious_login": Flow(
        start=lambda d: _verify_then(d, _logins),
        verified=_logins,
        steps={"was_it_you": _was_it_you},
    ),
    "case_status": Flow(
        start=_case_start, verified=_case_track, steps={"reference": _case_reference}
    ),
    "complaint": Flow(
        start=_complaint_start, verified=_complaint_open, steps={"details": _complaint_details}
    ),
}


def explain_error(d: Dialog, error: KefuError) -> Reply:
    """A wallet or case refusal told in plain words, with a person on offer."""
    d.finish()
    return Reply(
        d.t("bot.error.could_not", detail=d.t(error.message_key, **error.params)),
        quick_replies=[d.option("bot.choice.person", "human_agent")],
    )
