"""The placeholders of canned replies (``{customer_name}``, ``{reference}``…): filling them
for the chat or case at hand, and the one rule every surface that sends a staff reply to a
customer asks (the agent's chat, a case's reply on the page and in the API).

A placeholder the chat or case knows is filled. One it does not know is never sent as
written: the customer's name takes a courteous neutral form where the wording around it
has one (``{customer_name}您好`` -> ``您好``, ``Hello {customer_name}`` -> ``Hello there``);
any other is marked for the agent to complete (``【请填写：工单编号】`` /
``[fill in: case reference]``), and a reply that still holds a mark or a raw placeholder
is refused with the part named. Shared by chat and cases, so it imports no domain.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from kefu.errors import InvalidInput
from kefu.i18n import LANGUAGES, Lang, translate

NAMES = ("customer_name", "agent_name", "case_reference", "reference", "committed_time")
PLACEHOLDER = re.compile(r"\{(" + "|".join(NAMES) + r")\}")


class UnfilledPlaceholder(InvalidInput):
    code = "unfilled_placeholder"
    message_key = "error.reply.unfilled"


def mark(name: str, lang: Lang) -> str:
    """What the agent sees where a placeholder could not be filled."""
    # {case_reference} is the older name of {reference}: one label for both
    label = "reference" if name == "case_reference" else name
    return translate(
        "reply.placeholder.mark", lang, what=translate(f"reply.placeholder.{label}", lang)
    )


def _mark_pattern(lang: Lang) -> str:
    before, _, after = translate("reply.placeholder.mark", lang).partition("{what}")
    return re.escape(before) + r"[^\n]{1,40}?" + re.escape(after)


@cache
def _unfilled_pattern() -> re.Pattern[str]:
    """A mark in either language (an agent may paste one from a chat in the other), or a
    raw placeholder (typed, or sent through the API)."""
    marks = [_mark_pattern(lang) for lang in LANGUAGES]
    return re.compile("|".join([*marks, PLACEHOLDER.pattern]))


_Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]
# The customer's name unknown (an anonymous visitor): the wordings with a natural neutral
# form, per language. Anywhere else the name is marked, not guessed.
_NEUTRAL_NAME: dict[Lang, list[_Rule]] = {
    "zh-CN": [
        # {customer_name}您好 / {customer_name}，您好 -> 您好
        (re.compile(r"\{customer_name\}[，,]?\s*(?=[您你])"), lambda m: ""),
        # 尊敬的{customer_name} -> 尊敬的客户
        (re.compile(r"(?<=尊敬的|亲爱的)\{customer_name\}"), lambda m: "客户"),
    ],
    "en": [
        # Hello {customer_name}, / Hi, {customer_name}! -> Hello there, / Hi there!
        (
            re.compile(
                r"\b(hello|hi|hey|good (?:morning|afternoon|evening)),? \{customer_name\}",
                re.IGNORECASE,
            ),
            lambda m: f"{m.group(1)} there",
        ),
        # Dear {customer_name} -> Dear customer
        (
            re.compile(r"\b(dear) \{customer_name\}", re.IGNORECASE),
            lambda m: f"{m.group(1)} customer",
        ),
        # Thank you, {customer_name}. -> Thank you.
        (re.compile(r",? \{customer_name\}(?=[.!?])"), lambda m: ""),
    ],
}


def fill(text: str, values: dict[str, str], lang: Lang) -> str:
    """``text`` with every placeholder ``values`` holds filled; the customer's name, if
    unknown, in a neutral form where one reads naturally; any other left marked."""
    known = {name: value for name, value in values.items() if value}
    if "customer_name" not in known:
        for pattern, neutral in _NEUTRAL_NAME[lang]:
            text = pattern.sub(neutral, text)
    return PLACEHOLDER.sub(lambda m: known.get(m.group(1)) or mark(m.group(1), lang), text)


def unfilled(text: str, lang: Lang) -> str | None:
    """The first part of ``text`` still to be filled in, as the agent would see it marked
    in ``lang``; None when nothing is."""
    found = _unfilled_pattern().search(text)
    if found is None:
        return None
    raw = PLACEHOLDER.fullmatch(found.group(0))
    return mark(raw.group(1), lang) if raw else found.group(0)


def refuse_unfilled(text: str, lang: Lang) -> None:
    """Every reply to a customer passes here: one still holding a part to fill in is
    refused, naming that part."""
    part = unfilled(text, lang)
    if part is not None:
        raise UnfilledPlaceholder("the reply still has a part to fill in", part=part)
