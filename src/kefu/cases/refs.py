"""Case reference numbers (参考编号): ``KF-2611-7Q4MB-X``.

Shape: ``KF`` - the year and month the case was opened (``YYMM``) - five random symbols -
one check symbol. Symbols come from a 31-letter alphabet without the letters people confuse
with digits (I, L, O), with U (read as V) or Z (written like 2); the parser still accepts
those letters as the digits they are mistaken for.

**Check symbol.** A weighted sum of the nine symbol values (weights 1..9) modulo 31. Because
31 is prime and every weight is non-zero, any single wrong symbol changes the sum, and so
does swapping two neighbours (their weights differ by 1): a mistyped reference is rejected
rather than matched to somebody else's case.

**Keypad form.** The random part is a number below 31^5 (28,629,151), written in base 31.
The IVR form is ``YYMM`` + that number as eight decimal digits + a Damm check digit, 13
digits in all (``2611 07 654 321 4``). Both forms carry the same information, so either can
be turned into the other, and each has its own check that catches a single wrong character
and swapped neighbours.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from kefu.errors import InvalidInput

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXY"
BASE = len(ALPHABET)  # 31, prime
PREFIX = "KF"
RANDOM_LENGTH = 5
RANDOM_LIMIT = BASE**RANDOM_LENGTH
DIGITS_LENGTH = 4 + 8 + 1

_VALUE = {symbol: index for index, symbol in enumerate(ALPHABET)}
# What people type for a symbol that is not in the alphabet.
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V", "Z": "2"})
_SEPARATORS = re.compile(r"[\s\-_./·—–]+")

# Damm's quasigroup of order 10 (totally anti-symmetric): one digit of check catches every
# single-digit error and every swap of adjacent digits.
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


class ReferenceInvalid(InvalidInput):
    """Not shaped like a reference at all."""

    code = "reference_invalid"
    message_key = "error.case.reference_invalid"


class ReferenceMistyped(InvalidInput):
    """Shaped like a reference, but its check character does not match: a typo."""

    code = "reference_mistyped"
    message_key = "error.case.reference_mistyped"


@dataclass(frozen=True)
class Reference:
    period: str  # YYMM
    number: int  # the random part, 0 <= number < 31^5

    def __str__(self) -> str:
        body = self.period + _encode(self.number)
        return f"{PREFIX}-{self.period}-{body[4:]}-{check_symbol(body)}"

    @property
    def digits(self) -> str:
        """The keypad form: YYMM, the random part as 8 digits, a Damm check digit."""
        body = f"{self.period}{self.number:08d}"
        return body + str(damm_digit(body))


def _encode(number: int) -> str:
    symbols = []
    for _ in range(RANDOM_LENGTH):
        number, rest = divmod(number, BASE)
        symbols.append(ALPHABET[rest])
    return "".join(reversed(symbols))


def _decode(symbols: str) -> int:
    number = 0
    for symbol in symbols:
        number = number * BASE + _VALUE[symbol]
    return number


def check_symbol(body: str) -> str:
    """The check symbol for the nine symbols ``YYMM`` + random part."""
    total = sum(weight * _VALUE[symbol] for weight, symbol in enumerate(body, start=1))
    return ALPHABET[total % BASE]


def damm_digit(digits: str) -> int:
    interim = 0
    for digit in digits:
        interim = _DAMM[interim][int(digit)]
    return interim


def new_reference(opened_at: datetime) -> Reference:
    """A fresh random reference for a case opened at ``opened_at`` (in the service zone)."""
    return Reference(period=opened_at.strftime("%y%m"), number=secrets.randbelow(RANDOM_LIMIT))


def _valid_period(period: str) -> bool:
    return period.isdigit() and 1 <= int(period[2:]) <= 12


def _normalise(text: str) -> str:
    # NFKC turns full-width letters and digits (ＫＦ－２６１１) into ASCII ones.
    folded = unicodedata.normalize("NFKC", text).strip().upper()
    return _SEPARATORS.sub("", folded)


def parse(text: str) -> Reference:
    """Read a reference as a customer or agent typed it, or as keypad digits.

    Lower case, missing or extra dashes and spaces, full-width characters and the letters
    O, I, L, U, Z are accepted. A wrong check character raises ``ReferenceMistyped``;
    anything else that is not a reference raises ``ReferenceInvalid``.
    """
    compact = _normalise(text)
    if compact.isdigit() and len(compact) == DIGITS_LENGTH:
        return _parse_digits(compact, text)
    if compact.startswith(PREFIX):
        compact = compact[len(PREFIX) :]
    compact = compact.translate(_CONFUSABLE)
    if len(compact) != 4 + RANDOM_LENGTH + 1 or any(c not in _VALUE for c in compact):
        raise ReferenceInvalid(f"not a case reference: {text!r}", reference=text)
    body, check = compact[:-1], compact[-1]
    if not _valid_period(body[:4]):
        raise ReferenceInvalid(f"not a case reference: {text!r}", reference=text)
    if check_symbol(body) != check:
        raise ReferenceMistyped(f"check character does not match in {text!r}", reference=text)
    return Reference(period=body[:4], number=_decode(body[4:]))


def _parse_digits(digits: str, text: str) -> Reference:
    if damm_digit(digits) != 0:  # a correct number with its Damm digit checks to 0
        raise ReferenceMistyped(f"check digit does not match in {text!r}", reference=text)
    period, number = digits[:4], int(digits[4:12])
    if not _valid_period(period) or number >= RANDOM_LIMIT:
        raise ReferenceInvalid(f"not a case reference: {text!r}", reference=text)
    return Reference(period=period, number=number)


def canonical(text: str) -> str:
    """``parse`` then print: the one spelling stored in the database."""
    return str(parse(text))
