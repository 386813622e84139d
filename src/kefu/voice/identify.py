"""Identity by keypad, before anything touches an account.

The caller's number matched to a registered phone is only a hint (caller ID can be
spoofed): a one-time code still goes by SMS to the registered phone and is typed on the
keypad. A caller whose number is not registered types their account number instead, and
the code goes to that account's phone. The rules are the identity domain's, as on every
channel: codes expire, are single-use and rate-limited, wrong codes lock the verification.
An account number that belongs to nobody is handled exactly like one that does (the
caller is asked for a code that can never match), so the hotline does not reveal which
accounts exist.

A caller who no longer has the registered phone (lost, stolen, calling from another
number) presses 9 at the code prompt, types the account number and answers the security
questions they set (``identity.questions``), one per prompt. Such a verification is
light: it allows the balance, a top-up's status, a case's progress and freezing, never an
action that lifts a protection or moves money (``selfservice._acting``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from kefu import ratelimit
from kefu.errors import (
    CodeExpired,
    CodeInvalid,
    CodeLimitReached,
    CodeResendTooSoon,
    InvalidInput,
    TooManyRequests,
    VerificationExpired,
    VerificationLocked,
)
from kefu.identity import otp, questions
from kefu.identity import service as identity_service
from kefu.voice import speech
from kefu.voice.engine import ACTIONS, Ctx, InvalidKey, goto, step, to_person
from kefu.voice.menu import ActionNode
from kefu.voice.twiml import Turn

if TYPE_CHECKING:
    from kefu.identity.models import Customer, Verification

ACCOUNT_TRIES_PER_HOUR = 10
CODE_LENGTH = 6
# at the code prompt: "no longer have this phone? press 9 for security questions"
QUESTIONS_KEY = "9"


def verified(ctx: Ctx) -> bool:
    """Proven in this call, and not longer ago than a verification lasts."""
    call = ctx.call
    if call.verification_id is None or call.verified_at is None:
        return False
    ttl = timedelta(seconds=ctx.settings.verification_ttl_seconds)
    return call.verified_at + ttl > ctx.now


def begin(ctx: Ctx) -> Turn:
    """Ask the caller to prove who they are; the current action resumes afterwards."""
    if ctx.call.identified_by == "caller_id" and ctx.call.customer_id is not None:
        goto(ctx, "id.offer")
        return _offer_prompt(ctx)
    goto(ctx, "id.account")
    return _account_prompt(ctx).before(ctx.line("voice.id.needed"))


def _resume(ctx: Ctx) -> Turn:
    node = ctx.tree.node(ctx.call.node)
    assert isinstance(node, ActionNode)
    return ACTIONS[node.action](ctx, ctx.call.node, node).before(ctx.line("voice.id.verified"))


# --- caller ID matched: offer the code -------------------------------------------------


def _offer_prompt(ctx: Ctx) -> Turn:
    customer = identity_service.get_customer(ctx.db, ctx.call.customer_id or 0)
    tail = speech.digits((customer.phone or "")[-4:], ctx.lang)
    return ctx.ask(ctx.line("voice.id.offer", tail=tail))


@step("id.offer", _offer_prompt)
def _offer(ctx: Ctx, keys: str) -> Turn:
    if keys == "1":
        customer = identity_service.get_customer(ctx.db, ctx.call.customer_id or 0)
        return _send_code(ctx, customer, method="caller_id")
    if keys == "2":
        goto(ctx, "id.account")
        return _account_prompt(ctx)
    raise InvalidKey()


# --- account number ---------------------------------------------------------------------


def _account_prompt(ctx: Ctx) -> Turn:
    return ctx.ask(ctx.line("voice.id.account"), digits=20, finish="#", timeout=15)


@step("id.account", _account_prompt)
def _account(ctx: Ctx, keys: str) -> Turn:
    typed = _typed_account(keys)
    try:
        _count_account_try(ctx)
    except TooManyRequests:
        ctx.event("account_throttled")
        return to_person(ctx, ctx.line("voice.id.too_many"))
    customer = identity_service.find_customer_by_keypad_account(ctx.db, typed)
    ctx.event("account_typed", found=customer is not None)
    return _send_code(ctx, customer, method="account")


def _typed_account(keys: str) -> str:
    typed = keys.rstrip("#")
    if not (typed.isascii() and typed.isdigit() and 4 <= len(typed) <= 20):
        raise InvalidKey("voice.id.account_shape")
    return typed


def _count_account_try(ctx: Ctx) -> None:
    ratelimit.hit(
        ctx.db,
        bucket="voice.account",
        key=ctx.call.caller_key,
        limit=ACCOUNT_TRIES_PER_HOUR,
        window_seconds=3600,
        secret=ctx.settings.secret_key,
        now=ctx.now,
    )


def _send_code(ctx: Ctx, customer: Customer | None, *, method: str) -> Turn:
    """Start a verification to the customer's registered phone (or pretend to, for an
    account that does not exist), under the same per-client limit as the web API."""
    try:
        ratelimit.hit(
            ctx.db,
            bucket="verification.start",
            key=f"voice:{ctx.call.caller_key}",
            limit=ctx.settings.otp_max_per_client_per_hour,
            window_seconds=3600,
            secret=ctx.settings.secret_key,
            now=ctx.now,
        )
        verification_id = None
        if customer is not None and customer.phone:
            sent = otp.start_verification(
                ctx.db,
                contact=customer.phone,
                channel="voice",
                settings=ctx.settings,
                senders=ctx.senders,
                now=ctx.now,
            )
            verification_id = sent.verification.public_id
    except CodeResendTooSoon as exc:
        ctx.event("code_throttled", reason="resend_too_soon")
        wait = speech.number(exc.retry_after, ctx.lang)
        return _offer_or_account_prompt(ctx).before(ctx.line("voice.id.wait", seconds=wait))
    except TooManyRequests:
        ctx.event("code_throttled", reason="limit")
        return to_person(ctx, ctx.line("voice.id.too_many"))
    ctx.event("code_sent", method=method, verification=verification_id or "")
    goto(ctx, "id.code", verification=verification_id, method=method, fake_tries=0)
    return _code_prompt(ctx).before(ctx.line("voice.id.code_sent"))


def _offer_or_account_prompt(ctx: Ctx) -> Turn:
    return _offer_prompt(ctx) if ctx.call.step == "id.offer" else _account_prompt(ctx)


# --- the code ---------------------------------------------------------------------------


def _code_prompt(ctx: Ctx) -> Turn:
    return ctx.ask(
        ctx.line("voice.id.code"),
        ctx.line("voice.id.no_phone"),
        digits=CODE_LENGTH,
        finish="#",
        timeout=15,
    )


@step("id.code", _code_prompt)
def _code(ctx: Ctx, keys: str) -> Turn:
    if keys.startswith("*"):
        return _resend(ctx)
    if keys.rstrip("#") == QUESTIONS_KEY:
        ctx.event("questions_chosen")
        goto(ctx, "id.q.account", verification=None)
        return _questions_account_prompt(ctx)
    code = keys.rstrip("#")
    if not (code.isascii() and code.isdigit() and len(code) == CODE_LENGTH):
        raise InvalidKey("voice.id.code_shape")
    public_id = ctx.call.state.get("verification")
    if public_id is None:
        return _wrong_for_stranger(ctx)
    try:
        verification = otp.confirm_code(
            ctx.db,
            verification_public_id=public_id,
            code=code,
            settings=ctx.settings,
            now=ctx.now,
        )
    except CodeInvalid as exc:
        ctx.event("code_wrong")
        remaining = speech.number(int(exc.params.get("remaining", 0)), ctx.lang)
        return _code_prompt(ctx).before(ctx.line("voice.id.code_wrong", remaining=remaining))
    except VerificationLocked:
        ctx.event("verification_locked")
        return to_person(ctx, ctx.line("voice.id.locked"))
    except CodeExpired:
        ctx.event("code_expired")
        return _code_prompt(ctx).before(ctx.line("voice.id.code_expired"))
    except VerificationExpired:
        return begin(ctx)
    method = str(ctx.call.state.get("method") or "account")
    return _verified_by(ctx, verification, identified_by=method, method=f"{method}+sms_code")


def _verified_by(ctx: Ctx, verification: Verification, *, identified_by: str, method: str) -> Turn:
    """The caller proved who they are: note it on the call and resume the action."""
    call = ctx.call
    call.verification_id = verification.id
    call.verified_at = ctx.now
    call.customer_id = verification.customer_id
    call.identified_by = identified_by
    ctx.result("verified", method=method, verification=verification.public_id)
    return _resume(ctx)


def _wrong_for_stranger(ctx: Ctx) -> Turn:
    """The same answers as for a real account's wrong code, down to the lock."""
    tries = int(ctx.call.state.get("fake_tries", 0)) + 1
    ctx.call.state = {**ctx.call.state, "fake_tries": tries}
    ctx.event("code_wrong")
    remaining = ctx.settings.otp_max_attempts - tries
    if remaining > 0:
        spoken = speech.number(remaining, ctx.lang)
        return _code_prompt(ctx).before(ctx.line("voice.id.code_wrong", remaining=spoken))
    ctx.event("verification_locked")
    return to_person(ctx, ctx.line("voice.id.locked"))


def _resend(ctx: Ctx) -> Turn:
    public_id = ctx.call.state.get("verification")
    if public_id is None:
        ctx.event("code_resent")
        return _code_prompt(ctx).before(ctx.line("voice.id.code_resent"))
    try:
        otp.resend_code(
            ctx.db,
            verification_public_id=public_id,
            settings=ctx.settings,
            senders=ctx.senders,
            now=ctx.now,
        )
    except CodeResendTooSoon as exc:
        wait = speech.number(exc.retry_after, ctx.lang)
        return _code_prompt(ctx).before(ctx.line("voice.id.wait", seconds=wait))
    except CodeLimitReached:
        return to_person(ctx, ctx.line("voice.id.too_many"))
    except VerificationLocked:
        return to_person(ctx, ctx.line("voice.id.locked"))
    except VerificationExpired:
        return begin(ctx)
    ctx.event("code_resent")
    return _code_prompt(ctx).before(ctx.line("voice.id.code_resent"))


# --- no phone: account number and security questions -------------------------------------


def _questions_account_prompt(ctx: Ctx) -> Turn:
    return ctx.ask(ctx.line("voice.id.q.account"), digits=20, finish="#", timeout=15)


@step("id.q.account", _questions_account_prompt)
def _questions_account(ctx: Ctx, keys: str) -> Turn:
    """Start a verification by security questions; an account that does not exist gets
    the same questions (drawn from the whole list), which no answer can pass."""
    typed = _typed_account(keys)
    try:
        _count_account_try(ctx)
        challenge = questions.start_verification(
            ctx.db,
            account=typed,
            channel="voice",
            client_key=f"voice:{ctx.call.caller_key}",
            settings=ctx.settings,
            now=ctx.now,
        )
    except TooManyRequests:
        ctx.event("questions_throttled")
        return to_person(ctx, ctx.line("voice.id.too_many"))
    public_id = challenge.verification.public_id
    ctx.event("questions_started", verification=public_id)
    goto(ctx, "id.q.answer", verification=public_id, question=challenge.questions[0])
    count = speech.count(len(challenge.questions), ctx.lang)
    return _question_prompt(ctx).before(ctx.line("voice.id.q.intro", count=count))


def _question_prompt(ctx: Ctx) -> Turn:
    asked = questions.question(str(ctx.call.state.get("question")))
    return ctx.ask(
        ctx.line(f"voice.id.q.ask.{asked.id}"), digits=asked.keys, finish="#", timeout=20
    )


@step("id.q.answer", _question_prompt)
def _question_answer(ctx: Ctx, keys: str) -> Turn:
    """One answer. Whether it matched is told only at the end of the round, and never
    which one was wrong; the answer itself is neither kept on the call nor recorded."""
    asked = questions.question(str(ctx.call.state.get("question")))
    typed = keys.rstrip("#")
    if len(typed) != asked.keys:
        raise InvalidKey(f"voice.id.q.shape.{asked.id}")
    public_id = str(ctx.call.state.get("verification"))
    try:
        progress = questions.answer(
            ctx.db,
            verification_public_id=public_id,
            answer=typed,
            settings=ctx.settings,
            now=ctx.now,
        )
    except InvalidInput:
        raise InvalidKey(f"voice.id.q.shape.{asked.id}") from None
    except questions.AnswersWrong as exc:
        ctx.event("answers_wrong")
        first = questions.asked_questions(otp.get_verification(ctx.db, public_id))[0]
        goto(ctx, "id.q.answer", question=first)
        remaining = speech.number(int(exc.params.get("remaining", 0)), ctx.lang)
        return _question_prompt(ctx).before(ctx.line("voice.id.q.wrong", remaining=remaining))
    except VerificationLocked:
        ctx.event("verification_locked")
        return to_person(ctx, ctx.line("voice.id.q.locked"))
    except VerificationExpired:
        return begin(ctx)
    ctx.event("question_answered")
    if progress.next_question is not None:
        goto(ctx, "id.q.answer", question=progress.next_question)
        return _question_prompt(ctx)
    return _verified_by(
        ctx,
        progress.verification,
        identified_by="questions",
        method="account+security_questions",
    )
