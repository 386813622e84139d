"""Facts inside a message that the dialog needs to act: how much, when, which card, which case,
how to reach the customer, which link they were sent.

Everything is read from the normalised text, so 五百块, ５００元 and 伍佰 never need their
own patterns. Amounts are ``Decimal`` (money is never a float); times are resolved against
``now`` in the service time zone (Asia/Shanghai) by :mod:`kefu.bot.nlu.dates`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TypeVar

import phonenumbers

from kefu.bot.nlu.dates import TimeMention, extract_times
from kefu.bot.nlu.normalise import Language, normalise
from kefu.cases import refs
from kefu.contacts import normalise_phone
from kefu.errors import InvalidInput

T = TypeVar("T")

_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?"
_AMOUNT_BEFORE = re.compile(rf"(?:¥|rmb|cny|\$|usd)\s*(?P<number>{_NUMBER})(?P<wan>\s*万)?")
_AMOUNT_AFTER = re.compile(
    rf"(?<![\d.,])(?P<number>{_NUMBER})\s*(?P<wan>万)?\s*"
    r"(?:元|块|圆|rmb\b|cny\b|yuan\b|kuai\b|dollars?\b|usd\b)"
)
# 1,000.50 or 99.90 with no currency: grouped thousands or two decimals are written only
# for money (a date, a phone number or a card number never looks like that).
_BARE_AMOUNT = re.compile(
    r"(?<![\d.,])(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d{2})?|\d+\.\d{2})(?![\d.,]*\d)"
)
_EMAIL = re.compile(r"[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}")
_URL = re.compile(
    r"(?:https?://|www\.)[^\s\u3000-\u303f\uff00-\uffef\u4e00-\u9fff,，。]+"
    r"|(?<![@\w.\-])[a-z0-9][a-z0-9\-]*(?:\.[a-z0-9\-]+)*\.(?:com|cn|net|org|top|xyz|app|io|vip|cc|hk|info)"
    r"(?:/[^\s\u4e00-\u9fff,，。]*)?(?![\w\-])"
)
_REFERENCE = re.compile(
    r"(?<![a-z0-9])kf[\s\-_.]?\d{4}[\s\-_.]?[0-9a-z]{5}[\s\-_.]?[0-9a-z](?![a-z0-9])"
)
_CARD_LAST4 = re.compile(
    r"(?:尾号|尾数|后四位|后4位|末四位|末4位|ending(?:\s+in)?|ends?\s+(?:in|with)|last\s+(?:4|four)"
    r"(?:\s+digits?)?(?:\s+(?:is|are))?|\*{2,}|x{4})\s*(?:是|为|:)?\s*(?P<digits>\d{4})(?!\d)"
)


@dataclass(frozen=True)
class Amount:
    value: Decimal
    currency: str  # ISO 4217
    text: str


@dataclass
class Entities:
    amounts: list[Amount] = field(default_factory=list)
    times: list[TimeMention] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)  # E.164
    emails: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)  # canonical KF-… form, check passed
    mistyped_references: list[str] = field(default_factory=list)  # shaped right, check failed
    card_last4: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)


def _decimal(number: str, wan: str | None) -> Decimal | None:
    try:
        value = Decimal(number.replace(",", ""))
    except InvalidOperation:
        return None
    return value * 10000 if wan else value


def _currency(text: str) -> str:
    return "USD" if "$" in text or "usd" in text or "dollar" in text else "CNY"


def _add_unique(items: list[T], item: T) -> None:
    if item not in items:
        items.append(item)


def _amounts(text: str, taken: list[tuple[int, int]]) -> list[Amount]:
    found: list[tuple[int, Amount]] = []
    covered: list[tuple[int, int]] = list(taken)

    def free(start: int, end: int) -> bool:
        return all(end <= first or start >= last for first, last in covered)

    for pattern in (_AMOUNT_BEFORE, _AMOUNT_AFTER, _BARE_AMOUNT):
        for match in pattern.finditer(text):
            if not free(match.start(), match.end()):
                continue
            wan = match.groupdict().get("wan")
            value = _decimal(match.group("number"), wan)
            if value is None:
                continue
            covered.append((match.start(), match.end()))
            amount = Amount(value=value, currency=_currency(match.group(0)), text=match.group(0))
            found.append((match.start(), amount))
    return [amount for _, amount in sorted(found, key=lambda pair: pair[0])]


def _phones(raw: str) -> list[str]:
    phones: list[str] = []
    text = unicodedata.normalize("NFKC", raw)
    for match in phonenumbers.PhoneNumberMatcher(text, "CN"):
        try:
            _add_unique(phones, normalise_phone(match.raw_string))
        except InvalidInput:
            continue
    return phones


def _references(text: str, entities: Entities) -> None:
    for match in _REFERENCE.finditer(text):
        raw = match.group(0).upper()
        try:
            _add_unique(entities.references, str(refs.parse(raw)))
        except refs.ReferenceMistyped:
            _add_unique(entities.mistyped_references, raw)
        except InvalidInput:
            continue


def extract_entities(text: str, *, now: datetime, lang: Language = "zh-CN") -> Entities:
    """Every entity in ``text``; ``now`` (tz-aware) anchors 昨天, "last Friday" and the like."""
    normalised = normalise(text[:2000])
    entities = Entities()
    for match in _EMAIL.finditer(normalised):
        _add_unique(entities.emails, match.group(0))
    without_emails = _EMAIL.sub(" ", normalised)
    for match in _URL.finditer(without_emails):
        _add_unique(entities.urls, match.group(0).rstrip(".,;:!?)"))
    _references(without_emails, entities)
    for match in _CARD_LAST4.finditer(without_emails):
        _add_unique(entities.card_last4, match.group("digits"))
    entities.phones = _phones(_URL.sub(" ", _REFERENCE.sub(" ", without_emails)))
    times = extract_times(without_emails, now=now, lang=lang)
    entities.times = [mention for mention, _ in times]
    # A time such as 10.30 or a card's last four digits must not be read as money.
    blocked = [span for _, span in times]
    blocked += [match.span() for match in _CARD_LAST4.finditer(without_emails)]
    blocked += [match.span() for match in _REFERENCE.finditer(without_emails)]
    entities.amounts = _amounts(without_emails, blocked)
    return entities
