"""Is this number, site or address really yours? Answered from the registry of official
channels, with the official ones of the same kind when it is not."""

from __future__ import annotations

import re

from kefu.bot.dialog import Dialog, Reply
from kefu.bot.flows.common import Flow
from kefu.errors import InvalidInput

_NUMBERISH = re.compile(r"\+?\d[\d\s\-]{3,18}\d")


def _start(d: Dialog) -> Reply:
    reply = _value(d)
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


def _value(d: Dialog) -> Reply | None:
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


FLOWS = {"verify_official": Flow(start=_start, steps={"value": _value})}
