"""The official channels as a customer looks for them: grouped (our hotline, online, web,
numbers we call or text from), each with a label, notes and a link in the reader's
language. The help center's Contact us page and its "is someone from you calling me?"
answer both show them this way."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kefu.antifraud.schemas import ContactChannel
from kefu.i18n import Lang

# group id → which (kind, role) pairs it shows; a role of None takes any role
GROUPS: tuple[tuple[str, tuple[tuple[str, str | None], ...]], ...] = (
    ("hotline", (("phone", "hotline"),)),
    ("online", (("email", "address"), ("wechat", None), ("weibo", None))),
    ("web", (("domain", None), ("app", None), ("email", "domain"))),
    ("ours", (("phone", "outbound"), ("phone", "sms"))),
)


@dataclass(frozen=True)
class ChannelRow:
    kind: str
    label: str
    value: str
    href: str | None
    notes: str


def _href(channel: ContactChannel) -> str | None:
    if channel.kind == "phone" and channel.role == "hotline":
        return "tel:" + re.sub(r"[^0-9+]", "", channel.value)
    if channel.kind == "email" and channel.role == "address":
        return f"mailto:{channel.value}"
    if channel.kind == "domain":
        return f"https://{channel.normalised}"
    if channel.kind == "app" and channel.value.startswith("https://"):
        return channel.value
    return None


def channel_groups(
    channels: list[ContactChannel], lang: Lang
) -> list[tuple[str, list[ChannelRow]]]:
    """Non-empty groups in display order; a channel of a kind no group names is left out
    rather than shown without its context."""
    groups = []
    for group, members in GROUPS:
        rows = [
            ChannelRow(
                kind=c.kind,
                label=c.label(lang),
                value=c.value,
                href=_href(c),
                notes=c.notes(lang),
            )
            for c in channels
            if any(c.kind == kind and role in (None, c.role) for kind, role in members)
        ]
        if rows:
            groups.append((group, rows))
    return groups
