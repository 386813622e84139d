"""Account stolen or phone lost: frozen at once after a light check (the phone number it
is registered to), then handed to a person, urgently."""

from __future__ import annotations

from kefu.bot import actions
from kefu.bot.dialog import Dialog, Reply
from kefu.bot.flows.common import Flow, after_freeze
from kefu.identity import service as identity_service
from kefu.support import account as support_account


def _start(d: Dialog) -> Reply:
    d.conversation.urgent = True
    if d.conversation.customer_id is not None:
        _freeze_now(d, d.conversation.customer_id)
        return _reply(d)
    phone = d.entities.phones[0] if d.entities.phones else None
    if phone:
        return _by_phone(d, phone)
    d.goto("phone")
    return Reply(d.t("bot.stolen.ask_phone"))


def _phone(d: Dialog) -> Reply | None:
    phone = d.entities.phones[0] if d.entities.phones else None
    if phone is None:
        return None
    return _by_phone(d, phone)


def _by_phone(d: Dialog, phone: str) -> Reply:
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
    return _reply(d)


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


def _reply(d: Dialog) -> Reply:
    text = d.t("bot.stolen.frozen_if_registered") + " " + after_freeze(d)
    handed = actions.hand_over(d, reason="account_stolen", urgent=True)
    return Reply(text + "\n" + handed.text, handoff=True, case_reference=handed.case_reference)


FLOWS = {"account_stolen": Flow(start=_start, steps={"phone": _phone})}
