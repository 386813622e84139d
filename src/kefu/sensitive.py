"""Masking of secrets customers type or mail, before the text is stored or logged anywhere.

Every channel (chat, e-mail, voice transcripts, case notes) passes incoming text through
``mask`` before it reaches a table or a log line. What is found:

- bank card numbers: 13–19 digits passing the Luhn check, also written in groups split by
  spaces or dashes (``6222 0202 0011 2233 445``); the last four digits stay, as on a receipt;
- mainland ID numbers (居民身份证号): 17 digits and a check character (digit or X) that
  matches ISO 7064 MOD 11-2; the last four stay;
- one-time codes: 4–8 digits next to 验证码 / 校验码 / 动态码 / "code" / "OTP";
- passwords: what follows 密码 / 口令 (optionally after 是, 为, :, =), or password / pwd
  followed by is, : or =.

Full-width digits (６２２２…) and the ideographic space are read as their ASCII forms, so
they are found too; the text around what is masked is kept as written.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

_FULL_WIDTH = {0xFF10 + d: ord("0") + d for d in range(10)}
_FULL_WIDTH.update({0xFF38: ord("X"), 0xFF58: ord("x"), 0xFF0D: ord("-"), 0x3000: ord(" ")})

# Digit groups joined by one space or dash, possibly ending in X (an ID's check character).
# Not glued to letters or digits, so order ids such as T2026112300000001 are left alone.
_NUMBER_RUN = re.compile(r"(?<![0-9A-Za-z])\d+(?:[ \-]\d+)*[Xx]?(?![0-9A-Za-z])")
_CODE_WORDS = (
    r"验证码|校验码|动态码|短信码|确认码|verification\s+code|security\s+code|one[- ]time\s+code"
    r"|passcode|otp|code"
)
_CODE_AFTER = re.compile(
    rf"(?i)(?:{_CODE_WORDS})\s*(?:是|为|:|：|=|is)?\s*(?P<secret>\d{{4,8}})(?!\d)"
)
_CODE_BEFORE = re.compile(
    rf"(?i)(?<!\d)(?P<secret>\d{{4,8}})\s*(?:是|为|就是|is)?\s*(?:我的|the|my)?\s*(?:{_CODE_WORDS})"
)
# After 密码 the separator is optional (密码123456); after the English words it is required,
# or "password reset" would hide "reset".
_PASSWORD = re.compile(
    r"(?i)(?:(?:密码|口令)\s*(?:(?:是|为|:|：|=|改成|改为|设为|设成)\s*){0,2}"
    r"|(?:password|passwd|pwd)\s*(?:(?:is|:|：|=)\s*){1,2})"
    r"(?P<secret>[!-~]{3,64})"
)
PASSWORD_MASK = "******"  # noqa: S105 - what a password is replaced with
# Every secret above has at least four digits or one of these words: a text with neither
# (most log arguments, most chat lines) is returned without the scans.
_PASSWORD_WORD = re.compile(r"(?i)密码|口令|passw|pwd")
_FEWEST_SECRET_DIGITS = 4
# What the two checks before the scans look for in the text as written: the characters the
# full-width table turns into ASCII digits; any digit, as the number scans read them; and
# the part every code word above contains. None of those words has a character the table
# changes, so they are found in the text as written exactly when they are in the scan.
_SCAN_DIGIT = re.compile("[0-9\uff10-\uff19]")
_ANY_DIGIT = re.compile(r"\d")
_CODE_WORD = re.compile(r"(?i)验证码|校验码|动态码|短信码|确认码|code|otp")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def id_number_valid(text: str) -> bool:
    """A mainland resident ID number: 17 digits, then the MOD 11-2 check character."""
    text = text.upper()
    if len(text) != 18 or not text[:17].isdigit() or text[0] == "0":
        return False
    total = sum(int(d) * w for d, w in zip(text[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == text[17]


@dataclass(frozen=True)
class Redaction:
    text: str
    found: tuple[str, ...]  # kinds masked, e.g. ("card", "otp"); never the secrets

    @property
    def changed(self) -> bool:
        return bool(self.found)


def _mask_keep_last(original: str, scan: str, keep: int) -> str:
    """Stars for every digit or X but the last ``keep``; separators stay as written."""
    positions = [i for i, c in enumerate(scan) if c.isdigit() or c in "Xx"]
    hidden = set(positions[:-keep])
    return "".join("*" if i in hidden else c for i, c in enumerate(original))


_DIGIT_GROUP = re.compile(r"\d+[Xx]?")
_SEPARATORS = re.compile(r"[ \-]")
# the shortest card number has 13 digits, an ID number 18 characters
_SHORTEST_NUMBER = 13


def _number_spans(scan: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of card and ID numbers, preferring the longest match in a run."""
    spans: list[tuple[int, int, str]] = []
    for run in _NUMBER_RUN.finditer(scan):
        run_text = run.group()
        if len(run_text) - run_text.count(" ") - run_text.count("-") < _SHORTEST_NUMBER:
            continue  # too short to hold a card or ID number (dates, amounts, order ids)
        groups = [
            (run.start() + m.start(), run.start() + m.end())
            for m in _DIGIT_GROUP.finditer(run_text)
        ]
        taken = [False] * len(groups)
        # Longest candidates first, so "phone + card" masks the card and not a mix of both.
        candidates = sorted(
            ((i, j) for i in range(len(groups)) for j in range(i, len(groups))),
            key=lambda ij: groups[ij[1]][1] - groups[ij[0]][0],
            reverse=True,
        )
        for i, j in candidates:
            if any(taken[i : j + 1]):
                continue
            start, end = groups[i][0], groups[j][1]
            compact = _SEPARATORS.sub("", scan[start:end])
            kind = None
            if id_number_valid(compact):
                kind = "id_number"
            elif compact.isdigit() and 13 <= len(compact) <= 19 and luhn_valid(compact):
                kind = "card"
            if kind:
                spans.append((start, end, kind))
                taken[i : j + 1] = [True] * (j - i + 1)
    return spans


def redact(text: str) -> Redaction:
    """``text`` with every secret masked, and which kinds were found."""
    if not text:
        return Redaction(text, ())
    if _PASSWORD_WORD.search(text) is None:
        if len(_SCAN_DIGIT.findall(text)) < _FEWEST_SECRET_DIGITS:
            return Redaction(text, ())
        # a one-time code needs a code word, a card or ID number 13 digits: most texts with
        # digits have neither (a client's address and port in each access-log line, an
        # amount), and the scans below cost more than the rest of the line's logging
        if _CODE_WORD.search(text) is None and len(_ANY_DIGIT.findall(text)) < _SHORTEST_NUMBER:
            return Redaction(text, ())
    scan = text.translate(_FULL_WIDTH)  # one character for one, so offsets carry over
    spans: list[tuple[int, int, str]] = _number_spans(scan)
    for pattern, kind in ((_CODE_AFTER, "otp"), (_CODE_BEFORE, "otp"), (_PASSWORD, "password")):
        for match in pattern.finditer(scan):
            start, end = match.span("secret")
            if not any(s < end and start < e for s, e, _ in spans):
                spans.append((start, end, kind))
    if not spans:
        return Redaction(text, ())
    pieces, cursor = [], 0
    for start, end, kind in sorted(spans):
        pieces.append(text[cursor:start])
        if kind in ("card", "id_number"):
            pieces.append(_mask_keep_last(text[start:end], scan[start:end], 4))
        elif kind == "otp":
            pieces.append("*" * (end - start))
        else:
            pieces.append(PASSWORD_MASK)
        cursor = end
    pieces.append(text[cursor:])
    found = tuple(dict.fromkeys(kind for _, _, kind in sorted(spans)))
    return Redaction("".join(pieces), found)


def mask(text: str) -> str:
    return redact(text).text


class SensitiveLogFilter(logging.Filter):
    """Masks secrets in a log record's rendered message, for handlers that might see what
    customers typed (the access log, a library's debug output)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            # keep the arguments' shape: formatters such as uvicorn's access log unpack them
            record.msg = mask(str(record.msg))
            record.args = tuple(mask(a) if isinstance(a, str) else a for a in record.args)
            return True
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
