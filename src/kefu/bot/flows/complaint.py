"""A complaint: its details (asked for when the first message is short) on a case."""

from __future__ import annotations

from kefu.bot import actions
from kefu.bot.dialog import Dialog, Reply
from kefu.bot.flows.common import Flow, verify_then


def _start(d: Dialog) -> Reply:
    if len(d.text) >= 30:
        d.slots["details"] = d.text[:2000]
        return verify_then(d, _open)
    d.goto("details")
    return Reply(d.t("bot.complaint.ask_details"))


def _details(d: Dialog) -> Reply | None:
    d.slots["details"] = d.text[:2000]
    return verify_then(d, _open)


def _open(d: Dialog) -> Reply:
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


FLOWS = {"complaint": Flow(start=_start, verified=_open, steps={"details": _details})}
