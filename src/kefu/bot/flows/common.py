"""What the guided flows share: the flow and its steps, the one way a yes/no question is
asked and its answer read, amounts and times in the customer's words, the transactions
shown and picked, the identity check before a look-up, and the case on offer.

A flow has a start (the first message that named the problem), steps (each answers the
customer's next message, or returns None when the message does not fit, so the dialog can
treat it as a change of mind), and the point it resumes at once the customer is verified.
Every look-up and action happens only after a fresh verification, through the wallet port.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from kefu.bot import actions, identity_step
from kefu.bot.dialog import Dialog, QuickReply, Reply
from kefu.errors import KefuError
from kefu.support import trace
from kefu.wallet.schemas import TransactionView

Step = Callable[[Dialog], Reply | None]
Act = Callable[[Dialog], Reply]
YES, NO, SKIP, OPEN_CASE = "yes", "no", "skip", "open_case"
# the words the assistant's taps send (its other taps send an intent or "tx:12"): a tap says
# nothing about the language the customer writes in
TAP_WORDS = frozenset({YES, NO, SKIP, OPEN_CASE, identity_step.RESEND, identity_step.CANCEL})
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


# --- yes/no questions: asked one way, answered one way ------------------------------------
def ask_yes_no(
    d: Dialog,
    step: str,
    text: str,
    yes_key: str = "bot.choice.yes",
    no_key: str = "bot.choice.no",
) -> Reply:
    """Ask a yes/no question: the flow waits at ``step`` (a :func:`yes_no_step`), with a
    yes and a no to tap (their labels may say what the yes does)."""
    d.goto(step)
    return Reply(text, quick_replies=[d.option(yes_key, YES), d.option(no_key, NO)])


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


def not_now(d: Dialog) -> Reply:
    """A no to an offer: nothing is done, and the assistant asks what else it can do."""
    d.finish()
    return Reply(d.t("bot.ok_anything_else"))


def yes_no_step(on_yes: Step, on_no: Step = not_now, *, yes_value: str = YES) -> Step:
    """The step that reads the answer to a yes/no question: a tap (``yes_value`` or "no")
    or a short typed yes or no runs ``on_yes`` or ``on_no``; any other message is no answer
    (None), so the dialog treats it as a change of mind."""

    def step(d: Dialog) -> Reply | None:
        choice = YES if d.text.strip() == yes_value else answer(d)
        if choice is None:
            return None
        return on_yes(d) if choice == YES else on_no(d)

    return step


# --- amounts and times the customer names -------------------------------------------------
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


def collect_amount_and_time(d: Dialog) -> None:
    amount = amount_in(d, bare=True)
    if amount is not None:
        d.slots["amount"] = f"{amount:.2f}"
    if d.entities.times:
        mention = d.entities.times[0]
        d.slots["around"] = mention.start.isoformat()
        d.slots["until"] = mention.end.isoformat()
        d.slots["time_text"] = mention.text


def fits_amount(d: Dialog, tx: TransactionView) -> bool:
    amount = d.slots.get("amount")
    return amount is None or Decimal(str(tx.amount)) == Decimal(str(amount))


def fits_time(d: Dialog, tx: TransactionView) -> bool:
    """Within the time the customer named, give or take a few hours ("last night" may be
    just after midnight)."""
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


# --- transactions shown, picked and answered about ----------------------------------------
def status_text(d: Dialog, kind: str, status: str) -> str:
    return d.t(f"bot.status.{kind}.{status}")


def reason_text(d: Dialog, reason: str | None) -> str:
    if not reason:
        return ""
    text = d.t(f"bot.reason.{reason}")
    return text if text != f"bot.reason.{reason}" else reason


def tx_line(d: Dialog, tx: TransactionView) -> str:
    return d.t(
        "bot.tx.line",
        when=d.when(tx.created_at),
        counterparty=tx.counterparty,
        amount=d.money(tx.amount),
        status=status_text(d, tx.kind, tx.status),
    )


def offer_transactions(d: Dialog, step: str, text: str, shown: list[TransactionView]) -> Reply:
    """Show ``shown`` to tap (or pick by number) and wait at ``step`` (see :func:`picked`),
    with a person for "none of these"."""
    d.goto(step)
    d.slots["offered"] = [tx.id for tx in shown]
    return Reply(
        text,
        input="choice",
        quick_replies=[QuickReply(label=tx_line(d, tx), value=f"tx:{tx.id}") for tx in shown]
        + [d.option("bot.choice.none_of_these", "human_agent")],
    )


def ask_which(d: Dialog, key: str, found: list[TransactionView]) -> Reply:
    """Nothing fits what the customer said: say so, show what there is, ask which one."""
    return offer_transactions(
        d,
        "pick_found",
        d.t(key, asked=_what_was_asked(d))
        + "\n"
        + "\n".join(f"{n}. {tx_line(d, tx)}" for n, tx in enumerate(found, 1))
        + "\n"
        + d.t("bot.found.which"),
        found,
    )


def picked(d: Dialog) -> str | None:
    """The transaction the customer picked from those offered (a tap or its number)."""
    value = d.text.strip()
    offered = [str(o) for o in d.slots.get("offered") or []]
    chosen = value[3:] if value.startswith("tx:") else None
    if chosen is None and value.isdigit() and 1 <= int(value) <= len(offered):
        chosen = offered[int(value) - 1]
    return chosen if chosen in offered else None


def answered_about(d: Dialog, transaction_id: str) -> None:
    """The item this flow answers about: if the customer pushes back on the answer, the
    assistant traces this one (kefu.bot.service)."""
    d.slots["transaction_id"] = transaction_id
    d.state["item"] = {"intent": d.flow, "transaction_id": transaction_id}


# --- identity, cases, tracing -------------------------------------------------------------
def verify_then(d: Dialog, resume: Act) -> Reply:
    asked = identity_step.require(d, "verified")
    return asked if asked is not None else resume(d)


def offer_case_or_person(d: Dialog, text: str) -> Reply:
    d.goto("offer_case")
    return Reply(
        text,
        quick_replies=[
            d.option("bot.choice.open_case", OPEN_CASE),
            d.option("bot.choice.person", "human_agent"),
        ],
    )


def _open_case(d: Dialog) -> Reply:
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


def _no_answer(d: Dialog) -> None:
    """A no to "a case or a person?" answers neither: the message is understood afresh."""
    return None


# the step after offer_case_or_person: its "open a case" tap or a yes opens one ("a person"
# is an intent of its own, which the dialog starts before any step)
open_case_step = yes_no_step(_open_case, _no_answer, yes_value=OPEN_CASE)


def trace_stuck(d: Dialog, intent: str, found: str, transaction_id: str, traced_key: str) -> Reply:
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


def after_freeze(d: Dialog) -> str:
    """What a frozen account's owner does next, in the order it can be done: how the freeze
    is lifted first, the new password once it is (a frozen account cannot be reset)."""
    return d.t("bot.unfreeze.how") + " " + d.t("bot.unfreeze.then_password")


def explain_error(d: Dialog, error: KefuError) -> Reply:
    """A wallet or case refusal told in plain words, with a person on offer."""
    d.finish()
    return Reply(
        d.t("bot.error.could_not", detail=d.t(error.message_key, **error.params)),
        quick_replies=[d.option("bot.choice.person", "human_agent")],
    )
