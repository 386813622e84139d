"""Keypad self-service: balance, the last top-up and its reason, freezing a stolen account
at once, a case's progress by its reference, checking whether a number is ours, and our
official channels with their hours and costs.

Everything that reads or changes an account first proves who the caller is
(``identify``), then goes through the wallet port with an idempotency key tied to the
call, so a replayed request cannot act twice. Amounts, references and times are spoken as
words in the caller's language.
"""

from __future__ import annotations

from dataclasses import replace

from kefu.antifraud import service as antifraud_service
from kefu.cases import refs, tracking
from kefu.cases import service as cases_service
from kefu.cases.errors import CaseNotFound
from kefu.cases.refs import ReferenceInvalid, ReferenceMistyped
from kefu.errors import InvalidInput, KefuError, PermissionDenied
from kefu.i18n import catalogue
from kefu.identity import service as identity_service
from kefu.support import account as support_account
from kefu.support import money, trace
from kefu.support.requester import Requester
from kefu.voice import calls, casework, identify, speech
from kefu.voice.engine import Ctx, InvalidKey, action, done, goto, step, to_person
from kefu.voice.menu import ActionNode
from kefu.voice.twiml import Line, Turn
from kefu.wallet.errors import IllegalTransition, WalletNotFound
from kefu.wallet.schemas import AccountView, TransactionFilter, TransactionView

REFERENCE_DIGITS = refs.DIGITS_LENGTH


def _account(ctx: Ctx) -> AccountView:
    customer = identity_service.get_customer(ctx.db, ctx.call.customer_id or 0)
    return ctx.wallet.get_account(customer.wallet_account_id)


def _desk(ctx: Ctx) -> money.Money:
    return money.Money(ctx.db, ctx.wallet, ctx.settings, now=ctx.now)


def _asked(ctx: Ctx, name: str) -> money.Asked:
    """A support command asked by the verified caller, under an idempotency key from the
    call, the action and the verification (a replay never acts twice). The support layer
    checks the assistant's permission and that the verification allows the action
    (security questions allow freezing, never lifting a protection or moving money)."""
    if not identify.verified(ctx):
        raise PermissionDenied("the hotline acts only after a verification in this call")
    call = ctx.call
    return money.Asked(
        requester=Requester.of_customer(casework.ivr_actor(ctx), call.verification_id),
        key=f"voice:{call.call_sid}:{name}:{call.verification_id}",
        reason="",
        customer_id=call.customer_id,
        case_reference=call.case_reference,
        contact=money.Contact(channel="phone", call_sid=call.call_sid),
    )


def _unavailable(ctx: Ctx, error: KefuError) -> Turn:
    ctx.event("selfservice_failed", code=error.code)
    return to_person(ctx, ctx.line("voice.selfservice.unavailable"))


# --- balance ----------------------------------------------------------------------------


@action("balance")
def _balance(ctx: Ctx, node_id: str, node: ActionNode) -> Turn:
    if not identify.verified(ctx):
        return identify.begin(ctx)
    try:
        account = _account(ctx)
    except WalletNotFound as error:
        return _unavailable(ctx, error)
    lines = [ctx.line("voice.balance", amount=speech.money(account.balance, ctx.lang))]
    if account.status != "active":
        lines.append(ctx.line(f"voice.account.status.{account.status}"))
    ctx.result("balance", status=account.status)
    return done(ctx, *lines)


# --- last top-up ------------------------------------------------------------------------


def _topup_lines(ctx: Ctx, topup: TransactionView) -> list[Line]:
    lines = [
        ctx.line(
            "voice.topup.summary",
            amount=speech.money(topup.amount, ctx.lang),
            time=speech.moment(topup.created_at, ctx.lang, ctx.settings.tz),
        ),
        ctx.line(f"voice.topup.status.{topup.status}"),
    ]
    if topup.status_reason:
        key = f"voice.topup.reason.{topup.status_reason}"
        lines.append(ctx.line(key if key in catalogue(ctx.lang) else "voice.topup.reason.other"))
    return lines


@action("last_topup")
def _last_topup(ctx: Ctx, node_id: str, node: ActionNode) -> Turn:
    if not identify.verified(ctx):
        return identify.begin(ctx)
    try:
        account = _account(ctx)
        found = ctx.wallet.list_transactions(
            account.account_id, TransactionFilter(kind="topup", limit=1)
        )
    except WalletNotFound as error:
        return _unavailable(ctx, error)
    if not found:
        ctx.result("last_topup", found=False)
        return done(ctx, ctx.line("voice.topup.none"))
    topup = found[0]
    ctx.result("last_topup", found=True, status=topup.status, reason=topup.status_reason or "")
    lines = _topup_lines(ctx, topup)
    if topup.status != "pending":
        return done(ctx, *lines)
    goto(ctx, "topup.trace", topup=topup.id)
    return _trace_prompt(ctx).before(*lines)


def _trace_prompt(ctx: Ctx) -> Turn:
    return ctx.ask(ctx.line("voice.topup.trace"))


@step("topup.trace", _trace_prompt)
def _trace(ctx: Ctx, keys: str) -> Turn:
    if keys == "*":
        return done(ctx)
    if keys != "1":
        raise InvalidKey()
    reference = casework.open_case(
        ctx, category="recharge_not_credited", subject_key="voice.case.subject.topup"
    )
    asked = replace(_asked(ctx, "trace"), case_reference=reference)
    trace.trace(
        _desk(ctx),
        asked,
        transaction_id=str(ctx.call.state["topup"]),
        senders=ctx.senders,
        channel="voice",
    )
    ctx.result("topup_traced", reference=reference)
    return done(ctx, *casework.tell(ctx, reference))


# --- freeze a stolen account ------------------------------------------------------------


@action("freeze")
def _freeze_start(ctx: Ctx, node_id: str, node: ActionNode) -> Turn:
    if not identify.verified(ctx):
        return identify.begin(ctx)
    try:
        account = _account(ctx)
    except WalletNotFound as error:
        return _unavailable(ctx, error)
    if account.status == "frozen":
        ctx.result("freeze", done=False, status="frozen")
        goto(ctx, "freeze.after")
        return _after_prompt(ctx).before(ctx.line("voice.freeze.already"))
    goto(ctx, "freeze.confirm")
    return _confirm_prompt(ctx)


def _confirm_prompt(ctx: Ctx) -> Turn:
    return ctx.ask(ctx.line("voice.freeze.confirm"))


@step("freeze.confirm", _confirm_prompt)
def _freeze(ctx: Ctx, keys: str) -> Turn:
    if keys == "*":
        return done(ctx)
    if keys != "1":
        raise InvalidKey()
    call = ctx.call
    try:
        account = _account(ctx)
        support_account.freeze(
            _desk(ctx),
            _asked(ctx, "freeze"),
            account_id=account.account_id,
            reason="stolen",
        )
    except (WalletNotFound, IllegalTransition) as error:
        return _unavailable(ctx, error)
    call.urgent = True
    reference = casework.open_case(
        ctx, category="account_stolen", subject_key="voice.case.subject.stolen"
    )
    ctx.result("freeze", done=True, reference=reference)
    goto(ctx, "freeze.after")
    return _after_prompt(ctx).before(ctx.line("voice.freeze.done"), *casework.tell(ctx, reference))


def _after_prompt(ctx: Ctx) -> Turn:
    return ctx.ask(ctx.line("voice.freeze.after"))


@step("freeze.after", _after_prompt)
def _after_freeze(ctx: Ctx, keys: str) -> Turn:
    if keys == "1":
        return to_person(ctx)
    if keys == "*":
        return done(ctx)
    raise InvalidKey()


# --- case progress ----------------------------------------------------------------------


@action("case_progress")
def _case_start(ctx: Ctx, node_id: str, node: ActionNode) -> Turn:
    if not identify.verified(ctx):
        return identify.begin(ctx)
    goto(ctx, "case.reference")
    return _reference_prompt(ctx)


def _reference_prompt(ctx: Ctx) -> Turn:
    return ctx.ask(
        ctx.line("voice.case.reference"), digits=REFERENCE_DIGITS, finish="#", timeout=20
    )


@step("case.reference", _reference_prompt)
def _case_progress(ctx: Ctx, keys: str) -> Turn:
    typed = keys.rstrip("#")
    if keys == "*":
        return done(ctx)
    if not (typed.isascii() and typed.isdigit() and len(typed) == REFERENCE_DIGITS):
        raise InvalidKey("voice.case.reference_shape")
    try:
        found = tracking.track(
            ctx.db,
            customer_id=ctx.call.customer_id or 0,
            reference=typed,
            settings=ctx.settings,
            lang=ctx.lang,
        )
    except ReferenceMistyped:
        raise InvalidKey("voice.case.reference_mistyped") from None
    except (ReferenceInvalid, CaseNotFound):
        raise InvalidKey("voice.case.not_found") from None
    case = cases_service.get_case(ctx.db, found.reference)
    if ctx.call.case_reference is None:
        calls.link_case(ctx.call, case_id=case.id, reference=case.reference, told=False)
    ctx.result("case_progress", reference=found.reference, status=found.status)
    when = speech.moment(found.committed_at, ctx.lang, ctx.settings.tz)
    return done(
        ctx,
        ctx.line(
            "voice.case.progress",
            reference=speech.reference(typed, ctx.lang),
            category=found.category_name,
            status=found.status_name,
        ),
        ctx.line("voice.case.committed", time=when),
    )


# --- is this number ours? ---------------------------------------------------------------


@action("check_number")
def _check_start(ctx: Ctx, node_id: str, node: ActionNode) -> Turn:
    goto(ctx, "number.check")
    return _number_prompt(ctx)


def _number_prompt(ctx: Ctx) -> Turn:
    return ctx.ask(ctx.line("voice.check.prompt"), digits=20, finish="#", timeout=20)


@step("number.check", _number_prompt)
def _check_number(ctx: Ctx, keys: str) -> Turn:
    if keys == "*":
        return done(ctx)
    typed = keys.rstrip("#")
    if not (typed.isascii() and typed.isdigit() and 3 <= len(typed) <= 20):
        raise InvalidKey("voice.check.not_a_number")
    try:
        result = antifraud_service.verify(
            ctx.db,
            typed,
            lang=ctx.lang,
            client_key=f"voice:{ctx.call.caller_key}",
            settings=ctx.settings,
            now=ctx.now,
        )
    except InvalidInput:
        raise InvalidKey("voice.check.not_a_number") from None
    ctx.result("check_number", verdict=result.verdict)
    said = [
        ctx.line(f"voice.check.verdict.{result.verdict}", number=speech.spoken(typed, ctx.lang)),
        Line(speech.spoken(result.reason, ctx.lang), ctx.lang),
        Line(speech.spoken(result.advice, ctx.lang), ctx.lang),
    ]
    return done(ctx, *said)


# --- our official channels, hours and costs ---------------------------------------------


@action("channels")
def _channels(ctx: Ctx, node_id: str, node: ActionNode) -> Turn:
    phones = [
        channel
        for channel in antifraud_service.contact_channels(ctx.db)
        if channel.kind == "phone" and channel.role == "hotline"
    ]
    lines = [
        Line(
            speech.spoken(
                f"{channel.label(ctx.lang)}: {channel.value}. {channel.notes(ctx.lang)}",
                ctx.lang,
            ),
            ctx.lang,
        )
        for channel in phones
    ]
    ctx.result("channels", count=len(lines))
    return done(ctx, *(lines or [ctx.line("voice.channels.none")]))
