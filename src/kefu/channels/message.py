"""The message handed to a sender."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class OutgoingMessage:
    """``secrets`` are substrings of the text (one-time codes) that may leave Kefu only in
    the message itself; ``repr`` hides subject and text so a stray log call cannot print them."""

    to: str
    purpose: str
    body: str = field(repr=False)
    subject: str | None = field(default=None, repr=False)
    secrets: tuple[str, ...] = field(default=(), repr=False)
    # e-mail threading: a case reply keeps its thread in the customer's mail client
    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "*" * len(secret))
        return text
