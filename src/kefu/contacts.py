"""Normalising how customers write their phone numbers and e-mail addresses: used by every
domain that takes one (identity, cases, voice, the assistant, the outbox), so it sits below them
all next to ``kefu.masking``."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from kefu.errors import InvalidInput

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_phone(raw: str, region: str = "CN") -> str:
    """Any common way of writing a phone number → E.164 (``+8613800000001``).

    Full-width digits, spaces, dashes and a +86 / 0086 prefix are accepted.
    """
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if not text or len(text) > 32:
        raise InvalidInput("not a phone number", field="phone")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput("not a phone number", field="phone") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidInput("not a phone number", field="phone")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def normalise_email(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw or "").strip().lower()
    if len(text) > 254 or not _EMAIL.match(text):
        raise InvalidInput("not an e-mail address", field="email")
    return text


def looks_like_email(raw: str) -> bool:
    return "@" in (raw or "")
