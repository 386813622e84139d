"""Shapes other domains and the API use: entries as edited, channels as listed, answers
as given."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from kefu.i18n import Lang

Verdict = Literal["official", "not_official", "reported_scam"]
EntryKind = Literal["phone", "domain", "email", "wechat", "weibo", "app", "account"]
PublicKind = Literal["phone", "domain", "email", "wechat", "weibo", "app"]
EntryStatus = Literal["official", "scam"]

# What an entry of each kind is for; the first is the default.
ROLES: dict[str, tuple[str, ...]] = {
    "phone": ("hotline", "outbound", "sms"),
    "domain": ("website",),
    "email": ("address", "domain"),
    "wechat": ("official_account", "service_account"),
    "weibo": ("account",),
    "app": ("ios", "android", "store"),
    "account": ("account",),
}


class EntryFields(BaseModel):
    """A registry entry as an admin writes it (API, CLI file, demo seed)."""

    kind: EntryKind
    value: str = Field(min_length=1, max_length=300)
    status: EntryStatus = "official"
    role: str | None = Field(default=None, max_length=16)
    label_zh: str = Field(default="", max_length=120)
    label_en: str = Field(default="", max_length=120)
    notes_zh: str = Field(default="", max_length=500)
    notes_en: str = Field(default="", max_length=500)
    toll_free: bool | None = None
    cost_zh: str = Field(default="", max_length=200)
    cost_en: str = Field(default="", max_length=200)
    hours_zh: str = Field(default="", max_length=100)
    hours_en: str = Field(default="", max_length=100)
    public: bool = True
    position: int = Field(default=100, ge=0, le=100_000)
    source: str = Field(default="", max_length=200)
    reported_on: date | None = None


@dataclass(frozen=True)
class ContactChannel:
    """An official channel for Contact us, the assistant's contact and call-fee answers
    and the phone menu. Texts are kept in both languages; ``label``/``notes`` pick one."""

    kind: str
    role: str
    value: str
    normalised: str
    toll_free: bool | None
    labels: dict[str, str]
    notes_by_lang: dict[str, str]
    cost: dict[str, str]
    hours: dict[str, str]

    def label(self, lang: Lang) -> str:
        return self.labels.get(lang) or self.labels.get("en") or self.value

    def notes(self, lang: Lang) -> str:
        """One line for a listing: for phones, toll-free or not, the cost and the hours,
        then any notes."""
        from kefu.i18n import translate

        parts: list[str] = []
        if self.kind == "phone" and self.toll_free is not None:
            key = (
                "antifraud.channel.toll_free"
                if self.toll_free
                else "antifraud.channel.not_toll_free"
            )
            parts.append(translate(key, lang))
        for texts in (self.cost, self.hours, self.notes_by_lang):
            text = texts.get(lang) or texts.get("en") or ""
            if text:
                parts.append(text)
        separator = "；" if lang == "zh-CN" else "; "
        return separator.join(parts)


@dataclass(frozen=True)
class VerifyResult:
    """The answer to "is this really yours?", in the asker's language.

    ``imitation_of`` names the official value a look-alike copies; ``label`` is the
    matched entry's name ("客服热线").
    """

    value: str
    kind: str
    verdict: Verdict
    reason: str
    advice: str
    normalised: str
    label: str | None = None
    imitation_of: str | None = None
    reported_on: date | None = None

    def public(self) -> dict[str, str]:
        return {
            "value": self.value,
            "kind": self.kind,
            "verdict": self.verdict,
            "reason": self.reason,
            "advice": self.advice,
        }


@dataclass(frozen=True)
class OutboundCallView:
    """A genuine call as the customer may hear about it: who, about what, from which
    number, and when."""

    public_id: str
    agent_name: str
    agent_number: str
    staff_id: int
    customer_id: int
    case_reference: str | None
    reason: str
    caller_number: str
    window_start: datetime
    window_end: datetime
    status: str


@dataclass(frozen=True)
class CallConfirmation:
    calling: bool
    message: str
    calls: list[OutboundCallView] = field(default_factory=list)
