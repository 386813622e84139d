"""The built-in core's refund run: an approved refund is paid into the customer's wallet
once it has waited the settlement delay (``KEFU_REFUND_SETTLEMENT_MINUTES``), as a real
core pays its approved refunds in its daily run. A company's core does this itself."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu import audit
from kefu.wallet import refunds
from kefu.wallet.idempotency import ActionContext
from kefu.wallet.models import Refund

SETTLEMENT_ACTOR = audit.Actor(name="wallet:settlement", role="system")


def pay_due(db: Session, *, now: datetime, delay: timedelta, limit: int = 200) -> list[Refund]:
    """Pay the approved refunds approved at least ``delay`` ago, oldest first; each under
    the key ``refund-pay-<id>``, so a run interrupted and started again pays each once."""
    due = db.scalars(
        select(Refund.id)
        .where(Refund.status == "approved", Refund.updated_at <= now - delay)
        .order_by(Refund.updated_at, Refund.id)
        .limit(limit)
    ).all()
    return [
        refunds.pay_refund(
            db,
            refund_id=refund_id,
            ctx=ActionContext(key=f"refund-pay-{refund_id}", actor=SETTLEMENT_ACTOR),
        )
        for refund_id in due
    ]
