"""How the help center lays out article excerpts for lists."""

from __future__ import annotations

import re

# A paragraph's lead-in label ("发生了什么：", "What to do:") or a list number ("1. ").
_LEAD = re.compile(r"^(?:[^：:。.\n]{1,14}[：:]|\d+[.、)]\s*)\s*")


def excerpt(body: str, length: int = 44) -> str:
    """The first sentence worth reading in a list: lead-in labels and list numbers are
    dropped, and the text is cut at a character boundary."""
    for line in body.split("\n"):
        text = _LEAD.sub("", line.strip()).strip()
        if text:
            text = text[:1].upper() + text[1:]  # a sentence start once the label is gone
            return text if len(text) <= length else text[: length - 1].rstrip() + "…"
    return ""
