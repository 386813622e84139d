"""Why a value cannot be checked, each with a catalogue text in both languages."""

from __future__ import annotations

from kefu.errors import InvalidInput


class EmptyValue(InvalidInput):
    code = "antifraud_empty_value"
    message_key = "antifraud.error.empty"


class ValueTooLong(InvalidInput):
    code = "antifraud_value_too_long"
    message_key = "antifraud.error.too_long"


class UnrecognisedValue(InvalidInput):
    """Not a phone number, web address, e-mail address or account name."""

    code = "antifraud_unrecognised_value"
    message_key = "antifraud.error.unrecognised"


class BadWebAddress(InvalidInput):
    code = "antifraud_bad_web_address"
    message_key = "antifraud.error.bad_web_address"


class BadEmail(InvalidInput):
    code = "antifraud_bad_email"
    message_key = "antifraud.error.bad_email"


class WrongKind(InvalidInput):
    """A registry entry whose value is of another kind than the one chosen."""

    code = "antifraud_wrong_kind"
    message_key = "antifraud.error.wrong_kind"
