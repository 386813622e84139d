"""Account locked, password forgotten, cannot log in: a lock after wrong passwords or
inactivity lifted when the customer says yes, then a password reset on offer; any other
lock or a freeze goes to a person."""

from __future__ import annotations

from kefu.bot import actions
from kefu.bot.dialog import Dialog, Reply
from kefu.bot.flows.common import Flow, ask_yes_no, reason_text, verify_then, yes_no_step
from kefu.identity import service as identity_service
from kefu.support import account as support_account


def _check(d: Dialog) -> Reply:
    account = d.wallet.get_account(actions.account_id(d))
    if account.status == "locked":
        reason = reason_text(d, account.status_reason)
        if account.status_reason in ("wrong_passwords", "inactivity"):
            return ask_yes_no(
                d,
                "confirm_unlock",
                d.t("bot.locked.explain", reason=reason) + " " + d.t("bot.locked.offer_unlock"),
                "bot.choice.unlock",
            )
        return actions.hand_over(d, reason="locked_security_check", tier="tier2")
    if account.status == "frozen":
        return actions.hand_over(d, reason="frozen_needs_review", tier="tier2")
    return ask_yes_no(d, "offer_reset", d.t("bot.locked.not_locked"), "bot.choice.reset_password")


def _unlock(d: Dialog) -> Reply:
    account = actions.account_id(d)
    support_account.unlock(
        actions.money_desk(d), actions.asked(d, "unlock", account), account_id=account
    )
    return ask_yes_no(d, "offer_reset", d.t("bot.locked.unlocked"), "bot.choice.reset_password")


def _reset(d: Dialog) -> Reply:
    account_id = actions.account_id(d)
    account = d.wallet.get_account(account_id)
    if account.status == "locked":
        return _check(d)
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


def _login_failed_start(d: Dialog) -> Reply:
    return ask_yes_no(d, "offer_check", d.t("bot.login.tips"), "bot.choice.check_account")


# the unlock and reset offers, wherever these flows make them
_OFFERS = {"confirm_unlock": yes_no_step(_unlock), "offer_reset": yes_no_step(_reset)}

FLOWS = {
    "account_locked": Flow(
        start=lambda d: verify_then(d, _check), verified=_check, steps=dict(_OFFERS)
    ),
    "password_reset": Flow(
        start=lambda d: verify_then(d, _reset), verified=_reset, steps=dict(_OFFERS)
    ),
    "login_failed": Flow(
        start=_login_failed_start,
        verified=_check,
        steps={
            "offer_check": yes_no_step(lambda d: verify_then(d, _check)),
            **_OFFERS,
        },
    ),
}
