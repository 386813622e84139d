"""What every support command is given and how it runs: the ``Money`` it works with (the
database, the wallet, the settings, the clock), who ``Asked`` and under which key, and the
``command`` wrapper that runs it whole or not at all. ``kefu.support.money`` re-exports
them, as every surface knows them from there."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.orm import Session

from kefu.approvals import service as approvals
from kefu.config import Settings
from kefu.db import utcnow
from kefu.support.requester import Requester
from kefu.wallet.port import ActionContext, WalletGateway

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Contact:
    """The conversation or call a customer asked in: the service-quality figures count
    the actions done for it (``action_done``). ``channel`` is the quality figures' own."""

    channel: str
    conversation_id: int | None = None
    call_sid: str | None = None
    case_id: int | None = None
    category: str | None = None


@dataclass(frozen=True)
class Asked:
    """Who asks, under which idempotency key and reason (already cleaned), for which
    customer and case, in which contact (self-service names its conversation or call)."""

    requester: Requester
    key: str
    reason: str
    customer_id: int | None = None
    case_reference: str | None = None
    contact: Contact | None = None

    def ctx(self, suffix: str = "") -> ActionContext:
        return ActionContext(
            key=f"{self.key}{suffix}",
            actor=self.requester.actor,
            case_reference=self.case_reference,
            customer_id=self.customer_id,
            reason=self.reason,
        )


@dataclass(frozen=True)
class Money:
    """The wallet, the settings and the clock every command works with."""

    db: Session
    wallet: WalletGateway
    settings: Settings
    now: datetime | None = None

    @property
    def at(self) -> datetime:
        return self.now or utcnow()

    def above_limit(self, amount: Decimal) -> bool:
        return approvals.needs_approval(amount, self.settings.approval_amount_above)


def command(
    run: Callable[Concatenate[Money, Asked, P], R],
) -> Callable[Concatenate[Money, Asked, P], R]:
    """A support command runs whole or not at all: what it did before a refusal (the
    wallet's action before its case note is refused, say) is undone in a savepoint, so
    every surface that catches the refusal and goes on leaves nothing behind."""

    @functools.wraps(run)
    def whole(m: Money, asked: Asked, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with m.db.begin_nested():
            return run(m, asked, *args, **kwargs)

    return whole
