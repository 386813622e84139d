"""What one turn of the assistant works with: the conversation, its saved state, the
customer's words understood, and the replies it builds.

The dialog state lives in ``Conversation.bot_state`` (JSON), so a conversation continues
across turns, processes and restarts. Keys:

``flow``      the guided flow in progress (an intent id) or absent
``step``      where in that flow, or in the identity check that interrupts it
``slots``     facts collected (amount, time, reference, transaction id, ...)
``misses``    messages in a row the assistant did not understand
``choices``   intents offered when it was unsure
``verify``    the pending verification's public id and the step to resume afterwards
``last``      the flow finished last and the facts it had collected, for a hand-over after it
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any, Literal

from sqlalchemy.orm import Session

from kefu import audit
from kefu.bot.nlu.classify import Classification, classify
from kefu.bot.nlu.entities import Entities, extract_entities
from kefu.channels.senders import Senders
from kefu.chat.models import Conversation
from kefu.config import Settings
from kefu.i18n import Lang, normalise_lang, translate
from kefu.wallet.port import WalletGateway

InputKind = Literal["text", "code", "choice"]


@dataclass(frozen=True)
class QuickReply:
    label: str
    value: str


@dataclass
class Reply:
    text: str
    quick_replies: list[QuickReply] = field(default_factory=list)
    input: InputKind = "text"
    handoff: bool = False
    case_reference: str | None = None


@dataclass
class Dialog:
    db: Session
    conversation: Conversation
    settings: Settings
    senders: Senders
    wallet: WalletGateway  # the adapter the app (or command) built once, on this session
    text: str
    now: datetime
    state: dict[str, Any]

    @property
    def lang(self) -> Lang:
        return normalise_lang(self.conversation.language) or self.settings.default_language

    def t(self, key: str, **params: Any) -> str:
        return translate(key, self.lang, **params)

    def option(self, key: str, value: str, **params: Any) -> QuickReply:
        return QuickReply(label=self.t(key, **params), value=value)

    @cached_property
    def classification(self) -> Classification:
        return classify(self.text)

    @cached_property
    def entities(self) -> Entities:
        return extract_entities(self.text, now=self.now, lang=self.lang)

    @property
    def actor(self) -> audit.Actor:
        """The assistant acts in its own name, on the conversation it serves."""
        return audit.Actor(name=f"assistant:conversation:{self.conversation.id}", role="assistant")

    # --- state ------------------------------------------------------------------------
    @property
    def flow(self) -> str | None:
        value = self.state.get("flow")
        return value if isinstance(value, str) else None

    @property
    def step(self) -> str | None:
        value = self.state.get("step")
        return value if isinstance(value, str) else None

    @property
    def slots(self) -> dict[str, Any]:
        slots = self.state.setdefault("slots", {})
        assert isinstance(slots, dict)
        return slots

    def begin(self, flow: str, step: str | None = None) -> None:
        """Start ``flow`` afresh: slots of another flow do not leak into it."""
        self.state["flow"] = flow
        self.state["step"] = step
        self.state["slots"] = {}

    def goto(self, step: str | None) -> None:
        self.state["step"] = step

    def finish(self) -> None:
        if self.flow is not None:
            self.state["last"] = {"flow": self.flow, "slots": dict(self.state.get("slots") or {})}
        for key in ("flow", "step", "slots", "choices"):
            self.state.pop(key, None)

    # --- identity ---------------------------------------------------------------------
    @property
    def verified(self) -> bool:
        """A fresh proof of identity in this conversation: nothing acts without one."""
        verified_at = self.conversation.verified_at
        if verified_at is None or self.conversation.customer_id is None:
            return False
        return self.now - verified_at < timedelta(seconds=self.settings.verification_ttl_seconds)

    @property
    def customer_id(self) -> int:
        customer_id = self.conversation.customer_id
        if customer_id is None:
            raise RuntimeError("the dialog asked for a customer before verification")
        return customer_id

    def money(self, amount: Decimal | str) -> str:
        value = Decimal(str(amount))
        return f"¥{value:,.2f}"

    def when(self, moment: datetime) -> str:
        from zoneinfo import ZoneInfo

        local = moment.astimezone(ZoneInfo(self.settings.timezone))
        today = self.now.astimezone(ZoneInfo(self.settings.timezone)).date()
        if local.date() == today:
            return self.t("bot.time.today", time=local.strftime("%H:%M"))
        if local.date() == today - timedelta(days=1):
            return self.t("bot.time.yesterday", time=local.strftime("%H:%M"))
        return local.strftime("%Y-%m-%d %H:%M")
