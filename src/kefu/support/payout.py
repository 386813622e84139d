"""Refunds reaching the customer: the built-in wallet pays approved refunds after the
settlement delay, and the customer is told when the money has arrived, by SMS (or e-mail)
in their language and on the case the refund was asked for, if any."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu import jobs
from kefu.approvals.models import ApprovalRequest, SupportAction
from kefu.channels.message import OutgoingMessage
from kefu.channels.senders import Senders, build_senders
from kefu.config import Settings, get_settings
from kefu.db import get_sessionmaker, utcnow
from kefu.i18n import normalise_lang, translate
from kefu.identity import service as identity_service
from kefu.support import notes
from kefu.wallet import ledger, settlement
from kefu.wallet.models import Refund


@dataclass(frozen=True)
class Paid:
    refund_id: int
    told: bool


def _case_of(db: Session, refund: Refund) -> str | None:
    """The case the refund was asked for: its approval request's, or the support action's
    that refunded the payment."""
    queued = db.scalar(
        select(ApprovalRequest.case_reference).where(
            ApprovalRequest.action == "refund", ApprovalRequest.target_id == str(refund.id)
        )
    )
    if queued:
        return queued
    return db.scalar(
        select(SupportAction.case_reference)
        .where(
            SupportAction.action == "refund",
            SupportAction.transaction_id == str(refund.payment_id),
            SupportAction.case_reference.is_not(None),
        )
        .order_by(SupportAction.id.desc())
        .limit(1)
    )


def tell_paid(db: Session, refund: Refund, *, senders: Senders, settings: Settings) -> bool:
    """Whether the holder was told (a customer Kefu knows, with a phone or an e-mail)."""
    customer = identity_service.find_customer_by_account(db, refund.account_id)
    if customer is None:
        return False
    lang = normalise_lang(customer.language) or settings.default_language
    amount = ledger.format_fen(refund.amount_fen)
    body = translate("support.told.refund_paid", lang, amount=amount)
    told = False
    if customer.phone:
        senders.sms.send(db, OutgoingMessage(to=customer.phone, purpose="refund_paid", body=body))
        told = True
    elif customer.email:
        subject = translate("support.refund_paid.subject", lang)
        senders.email.send(
            db,
            OutgoingMessage(to=customer.email, purpose="refund_paid", body=body, subject=subject),
        )
        told = True
    notes.note_case(
        db,
        case_reference=_case_of(db, refund),
        customer_id=customer.id,
        action="wallet.refund.paid",
        detail={"refund": refund.id, "amount": amount},
        actor=settlement.SETTLEMENT_ACTOR,
        told=notes.Told("support.told.refund_paid", amount=amount),
    )
    return told


def settle_refunds(
    db: Session, *, settings: Settings, senders: Senders, now: datetime
) -> list[Paid]:
    """One settlement run of the built-in wallet; nothing for a company's core."""
    if settings.wallet_backend != "builtin":
        return []
    delay = timedelta(minutes=settings.refund_settlement_minutes)
    return [
        Paid(refund.id, tell_paid(db, refund, senders=senders, settings=settings))
        for refund in settlement.pay_due(db, now=now, delay=delay)
    ]


def run_refund_settlement(now: datetime | None = None) -> list[Paid]:
    settings = get_settings()
    senders = jobs.adapter(build_senders)
    with get_sessionmaker()() as db:
        paid = settle_refunds(db, settings=settings, senders=senders, now=now or utcnow())
        db.commit()
    return paid


@jobs.periodic(minute="*/5")
def refund_settlement() -> None:
    run_refund_settlement()
