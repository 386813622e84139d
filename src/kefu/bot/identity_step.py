"""The identity check inside a conversation: a one-time code before any account look-up or
action, with the same rules as every other channel (kefu.identity.otp: expiry, tries,
throttling, audit). A customer signed in from the app gets the code on the registered
phone at once; an anonymous one is asked for the phone number or e-mail first.

The code the customer types is never stored: the message is kept as a placeholder.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta

from kefu.bot.dialog import Dialog, Reply
from kefu.errors import (
    CodeExpired,
    CodeInvalid,
    InvalidInput,
    KefuError,
    NotFound,
    TooManyRequests,
    VerificationExpired,
    VerificationLocked,
)
from kefu.i18n import translate
from kefu.identity import otp
from kefu.identity import service as identity_service

CONTACT = "verify_contact"
CODE = "verify_code"
STEPS = (CONTACT, CODE)
_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
RESEND = "resend"
CANCEL = "cancel"


def typed_code(text: str) -> str | None:
    """The six digits of a one-time code in what the customer typed (full-width digits and
    spaces between digits allowed), or None."""
    compact = re.sub(r"[\s\-]", "", text)
    try:
        return otp.normalise_code(compact)
    except InvalidInput:
        match = _CODE.search(compact)
        return match.group(1) if match else None


def require(d: Dialog, resume: str) -> Reply | None:
    """None when the customer holds a fresh verification; otherwise the message that starts
    one, remembering ``resume`` (the flow step to continue with afterwards)."""
    if d.verified:
        return None
    d.state["verify"] = {"resume": resume}
    if d.conversation.customer_id is not None:
        customer = identity_service.get_customer(d.db, d.conversation.customer_id)
        contact = customer.phone or customer.email
        if contact:
            return _send(d, contact)
    d.goto(CONTACT)
    return Reply(
        d.t("bot.verify.ask_contact"), quick_replies=[d.option("bot.choice.cancel", CANCEL)]
    )


def _send(d: Dialog, contact: str) -> Reply:
    try:
        sent = otp.start_verification(
            d.db,
            contact=contact,
            channel="chat",
            settings=d.settings,
            senders=d.senders,
            now=d.now,
        )
    except InvalidInput:
        d.goto(CONTACT)
        return Reply(d.t("bot.verify.bad_contact"))
    except TooManyRequests as error:
        # the step stays: the same number (or another) typed after the wait carries on
        d.goto(CONTACT)
        wait = max(1, error.retry_after)
        told = d.state["verify"].get("throttled")
        d.state["verify"]["throttled"] = True
        return Reply(
            d.t(
                "bot.verify.still_too_early" if told else "bot.verify.too_many",
                at=d.when(d.now + timedelta(seconds=wait)),
                minutes=math.ceil(wait / 60),
            ),
            quick_replies=[
                d.option("bot.choice.person", "human_agent"),
                d.option("bot.choice.cancel", CANCEL),
            ],
        )
    d.state["verify"]["id"] = sent.verification.public_id
    d.state["verify"].pop("throttled", None)
    d.goto(CODE)
    return Reply(
        d.t(
            "bot.verify.code_sent",
            destination=sent.verification.destination_masked,
            minutes=max(1, sent.expires_in // 60),
        ),
        input="code",
        quick_replies=[
            d.option("bot.choice.resend", RESEND),
            d.option("bot.choice.cancel", CANCEL),
        ],
    )


def handle(d: Dialog) -> tuple[Reply | None, bool]:
    """Answer a message during the check: (reply, verified now). A reply of None means the
    message was not a contact or a code, so the caller may treat it as a change of mind."""
    if d.step == CONTACT:
        contacts = d.entities.phones or d.entities.emails
        contact = contacts[0] if contacts else None
        if contact is None:
            return None, False
        return _send(d, contact), False
    verify = d.state.get("verify") or {}
    public_id = verify.get("id")
    if not isinstance(public_id, str):
        d.goto(None)
        return None, False
    if d.text.strip().lower() == RESEND:
        return _resend(d, public_id), False
    code = typed_code(d.text)
    if code is None:
        # a corrected number ("不对，是139…"), or a number where the code should be: the
        # check starts again with it
        contacts = d.entities.phones or d.entities.emails
        if contacts:
            return _send(d, contacts[0]), False
        return None, False
    try:
        verification = otp.confirm_code(
            d.db, verification_public_id=public_id, code=code, settings=d.settings, now=d.now
        )
    except CodeInvalid as error:
        return Reply(
            d.t("bot.verify.wrong_code", remaining=error.params.get("remaining", 0)),
            input="code",
            quick_replies=[d.option("bot.choice.resend", RESEND)],
        ), False
    except VerificationLocked:
        d.goto(None)
        d.state.pop("verify", None)
        return Reply(
            d.t("bot.verify.locked"),
            quick_replies=[d.option("bot.choice.person", "human_agent")],
        ), False
    except CodeExpired:
        return Reply(
            d.t("bot.verify.expired"),
            input="code",
            quick_replies=[d.option("bot.choice.resend", RESEND)],
        ), False
    except (VerificationExpired, NotFound):
        d.goto(None)
        d.state.pop("verify", None)
        return Reply(d.t("bot.verify.start_again")), False
    known = d.conversation.customer_id
    if known is not None and verification.customer_id != known:
        # a signed-in customer proved someone else's number: nothing is unlocked by it
        d.goto(None)
        d.state.pop("verify", None)
        return Reply(d.t("bot.verify.other_account")), False
    d.conversation.customer_id = verification.customer_id
    d.conversation.verification_id = verification.id
    d.conversation.verified_at = d.now
    return None, True


def _resend(d: Dialog, public_id: str) -> Reply:
    try:
        sent = otp.resend_code(
            d.db,
            verification_public_id=public_id,
            settings=d.settings,
            senders=d.senders,
            now=d.now,
        )
    except TooManyRequests as error:
        return Reply(d.t("bot.verify.resend_wait", seconds=error.retry_after), input="code")
    except KefuError as error:
        d.goto(None)
        d.state.pop("verify", None)
        return Reply(
            translate(error.message_key, d.lang, **error.params)
            + " "
            + d.t("bot.verify.start_again")
        )
    return Reply(
        d.t(
            "bot.verify.code_sent",
            destination=sent.verification.destination_masked,
            minutes=max(1, sent.expires_in // 60),
        ),
        input="code",
    )
