"""Raw RFC 5322 bytes into an ``InboundMail``: decoded headers, one text body, attachments.

Chinese mail is often labelled GB2312 while using characters only GBK or GB18030 have, so
those labels are decoded as GB18030 (a superset of both). A mail client can also name the
wrong one of the two Chinese families — Big5 on a GBK body, GB2312 on a Big5 one — and
those bytes decode without error into nonsense, so a Chinese label is checked against
detection: when the declared family reads badly and the other one cleanly, the other one
is used. Text that does not decode in its
declared charset (UTF-8 declared, GBK sent) or names an unknown one is decoded in the
charset charset-normalizer detects; only when nothing fits, and for a mail without a sender
address or with neither text nor attachments, ``MailUnreadable`` is raised: the caller keeps
the raw bytes and flags the mail for a person. Headers never fail: an encoded word that
cannot be decoded (``=?utf-8?B?a?=``) is kept as it was written.
"""

from __future__ import annotations

import binascii
import codecs
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.errors import HeaderParseError
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from html.parser import HTMLParser

from charset_normalizer import from_bytes

_WIDER_CHARSET = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030"}
# detected charsets preferred when about as clean as the best reading (``detect_text``)
_CUSTOMER_CHARSETS = ("utf_8", "gb18030", "big5", "big5hkscs")
_CHAOS_MARGIN = 0.05
# the two families of Chinese double-byte charsets, which read each other's bytes without error
_CHINESE_FAMILY = {
    "gb2312": "gb",
    "gbk": "gb",
    "gb18030": "gb",
    "big5": "big5",
    "big5hkscs": "big5",
    "cp950": "big5",
}
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# Where the quoted earlier mail starts in a reply, in the forms common mail clients write.
_QUOTE_START = re.compile(
    r"^\s*(?:-{2,}\s*(?:Original Message|原始邮件|原始郵件)\s*-{2,}"
    r"|On .{4,200} wrote:\s*$"
    r"|在\s?.{4,120}写道[:：]\s*$"
    r"|发件人[:：].*$"
    r"|From: .*$)",
    re.IGNORECASE | re.MULTILINE,
)


class MailUnreadable(Exception):
    """The mail cannot be turned into a message; ``reason`` says why, in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class InboundMail:
    from_address: str  # lower-case
    from_name: str
    to: tuple[str, ...]
    subject: str
    text: str = field(repr=False)
    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    sent_at: datetime | None = None
    attachments: tuple[Attachment, ...] = ()

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Message-IDs this mail answers, nearest first."""
        ids = [self.in_reply_to] if self.in_reply_to else []
        ids += [ref for ref in reversed(self.references) if ref not in ids]
        return tuple(ids)


def _codec(charset: str | None) -> str:
    name = (charset or "utf-8").strip().strip('"').lower()
    name = _WIDER_CHARSET.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise MailUnreadable(f"unknown character set {charset!r}") from None


def detect_text(data: bytes) -> str | None:
    """``data`` decoded in the charset detected from its bytes, or None if none fits.

    Short Chinese texts read as well in Korean or Japanese double-byte charsets (no chaos in
    either), so among the candidates about as clean as the cleanest, the charsets our
    customers write in come first."""
    matches = list(from_bytes(data))
    if not matches:
        return None
    calm = min(match.chaos for match in matches) + _CHAOS_MARGIN
    for encoding in _CUSTOMER_CHARSETS:
        for match in matches:
            if match.encoding == encoding and match.chaos <= calm:
                return str(match)
    return str(matches[0])


def _other_chinese_family(data: bytes, family: str) -> str | None:
    """``data`` in the other Chinese family, when detection finds it reads cleanly and the
    declared family does not; None when the declared one reads as well (or nothing fits).

    Short texts read about as well in either (``退款`` is valid both ways), so the label is
    only overruled when its own family is missing from the clean readings."""
    matches = list(from_bytes(data))
    if not matches:
        return None
    calm = min(match.chaos for match in matches) + _CHAOS_MARGIN
    clean = [match for match in matches if match.chaos <= calm]
    if any(_CHINESE_FAMILY.get(match.encoding) == family for match in clean):
        return None
    for match in clean:
        other = _CHINESE_FAMILY.get(match.encoding)
        if other is not None and other != family:
            return str(match)
    return None


def _decoded(data: bytes, charset: str | None) -> str | None:
    """In the declared charset when it fits, else the detected one; None if neither. A
    Chinese label is checked against the other Chinese family (module docstring)."""
    try:
        codec = _codec(charset)
        text = data.decode(codec)
    except (UnicodeDecodeError, MailUnreadable):
        return detect_text(data)
    family = _CHINESE_FAMILY.get(codec)
    if family is not None and not text.isascii():
        return _other_chinese_family(data, family) or text
    return text


def decode_words(value: str | None) -> str:
    """An RFC 2047 header (``=?gb2312?B?...?=``) as text. A word in the wrong charset is
    decoded by detection; one that cannot be decoded at all (bad base64) is kept as
    written. NUL characters, which no database column takes, become U+FFFD."""
    if not value:
        return ""
    try:
        chunks = decode_header(value)
    except (HeaderParseError, binascii.Error, ValueError, LookupError):
        chunks = [(str(value), None)]
    parts = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            parts.append(chunk)
            continue
        parts.append(_decoded(chunk, charset or "utf-8") or chunk.decode("ascii", "replace"))
    return " ".join("".join(parts).replace("\x00", "\ufffd").split())


def _message_ids(value: str | None) -> tuple[str, ...]:
    return tuple(_MESSAGE_ID.findall(value or ""))


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    text = _decoded(payload, part.get_content_charset())
    if text is None:
        charset = part.get_content_charset() or "utf-8"
        raise MailUnreadable(f"the text is not valid {charset}, nor in any charset detected")
    return text.replace("\x00", "\ufffd")


class _HtmlText(HTMLParser):
    _BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "blockquote"})
    _SKIP = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self.skipping += 1
        elif tag in self._BREAKS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self._BREAKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(data)


def html_to_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.out).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def strip_quoted(text: str) -> str:
    """The new part of a reply: without the quoted earlier mail under it."""
    match = _QUOTE_START.search(text)
    if match and match.start() > 0:
        text = text[: match.start()]
    kept = [line for line in text.splitlines() if not line.lstrip().startswith(">")]
    return "\n".join(kept).strip()


def _filename(part: Message) -> str | None:
    name = part.get_filename()
    return decode_words(name) if name else None


def _walk(message: Message) -> tuple[list[str], list[str], list[Attachment]]:
    plain: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        filename = _filename(part)
        if disposition == "attachment" or filename or not content_type.startswith("text/"):
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            attachments.append(
                Attachment(filename=filename or "attachment", content_type=content_type, data=data)
            )
        elif content_type == "text/html":
            html.append(_part_text(part))
        else:
            plain.append(_part_text(part))
    return plain, html, attachments


def parse_mail(raw: bytes) -> InboundMail:
    if not raw.strip():
        raise MailUnreadable("the mail is empty")
    message = message_from_bytes(raw, policy=policy.compat32)
    name, address = parseaddr(decode_words(message.get("From")))
    if "@" not in address:
        raise MailUnreadable("the mail has no sender address")
    plain, html, attachments = _walk(message)
    text = "\n\n".join(t.strip() for t in plain if t.strip())
    if not text and html:
        text = "\n\n".join(html_to_text(h) for h in html).strip()
    if not text and not attachments:
        raise MailUnreadable("the mail has no text and no attachments")
    sent_at = None
    if message.get("Date"):
        try:
            sent_at = parsedate_to_datetime(str(message["Date"]))
        except (TypeError, ValueError):
            sent_at = None
    in_reply_to = _message_ids(message.get("In-Reply-To"))
    recipients = getaddresses(
        [str(v) for v in message.get_all("To", []) + message.get_all("Cc", [])]
    )
    return InboundMail(
        from_address=address.strip().lower(),
        from_name=name.strip(),
        to=tuple(addr.lower() for _, addr in recipients if "@" in addr),
        subject=decode_words(message.get("Subject")),
        text=text,
        message_id=next(iter(_message_ids(message.get("Message-ID"))), None),
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=_message_ids(message.get("References")),
        sent_at=sent_at,
        attachments=tuple(attachments),
    )
