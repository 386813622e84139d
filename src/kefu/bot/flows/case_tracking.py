"""Where a case stands: the one whose reference the customer gives, or their latest."""

from __future__ import annotations

from kefu.bot.dialog import Dialog, Reply
from kefu.bot.flows.common import Flow, verify_then
from kefu.cases import tracking
from kefu.cases.errors import CaseNotFound


def _start(d: Dialog) -> Reply:
    if d.entities.references:
        d.slots["reference"] = d.entities.references[0]
        return verify_then(d, _track)
    if d.entities.mistyped_references:
        d.goto("reference")
        return Reply(d.t("bot.case.mistyped", reference=d.entities.mistyped_references[0]))
    if d.conversation.customer_id is not None:
        return verify_then(d, _track)
    d.goto("reference")
    return Reply(d.t("bot.case.ask_reference"))


def _reference(d: Dialog) -> Reply | None:
    if d.entities.references:
        d.slots["reference"] = d.entities.references[0]
        return verify_then(d, _track)
    if d.entities.mistyped_references:
        return Reply(d.t("bot.case.mistyped", reference=d.entities.mistyped_references[0]))
    return None


def _track(d: Dialog) -> Reply:
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


FLOWS = {"case_status": Flow(start=_start, verified=_track, steps={"reference": _reference})}
