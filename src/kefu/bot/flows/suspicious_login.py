"""An unusual-login alert: the latest sign-ins shown; "not me" freezes the account and
opens a high-priority case."""

from __future__ import annotations

from kefu.bot import actions
from kefu.bot.dialog import Dialog, Reply
from kefu.bot.flows.common import Flow, after_freeze, ask_yes_no, verify_then, yes_no_step
from kefu.support import account as support_account


def _logins(d: Dialog) -> Reply:
    events = [e for e in d.wallet.login_events(actions.account_id(d), limit=10) if e.succeeded][:3]
    if not events:
        d.finish()
        return Reply(d.t("bot.login.none") + " " + d.t("bot.security.tips"))
    lines = "\n".join(
        d.t("bot.login.line", when=d.when(e.at), device=e.device, city=e.city) for e in events
    )
    return ask_yes_no(
        d,
        "was_it_you",
        d.t("bot.login.recent") + "\n" + lines + "\n" + d.t("bot.login.was_it_you"),
        "bot.choice.it_was_me",
        "bot.choice.not_me",
    )


def _it_was_me(d: Dialog) -> Reply:
    d.finish()
    return Reply(d.t("bot.login.fine") + " " + d.t("bot.security.tips"))


def _not_me(d: Dialog) -> Reply:
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


FLOWS = {
    "suspicious_login": Flow(
        start=lambda d: verify_then(d, _logins),
        verified=_logins,
        steps={"was_it_you": yes_no_step(_it_was_me, _not_me)},
    )
}
