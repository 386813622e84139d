"""The flow end to end in the built-in wallet: an agent's refund is approved, the core pays
it after the settlement delay, and the customer is told by SMS and on the case."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import make_staff
from tests.integration.cases.case_helpers import make_case
from tests.integration.wallet.wallet_helpers import ctx, funded_account

from kefu.cases import timeline
from kefu.channels.models import OutboxMessage
from kefu.channels.senders import build_senders
from kefu.config import Settings
from kefu.db import utcnow
from kefu.identity import service as identity_service
from kefu.jobs import build_queue
from kefu.support import actions, payout
from kefu.wallet import check, flows
from kefu.wallet.models import Refund, WalletAccount
from kefu.wallet.port import build_wallet


def test_an_approved_refund_is_paid_after_the_delay_and_the_customer_told(
    db: Session, settings: Settings
) -> None:
    account = funded_account(db, "1000.00")
    phone = f"+86137{uuid.uuid4().int % 10**8:08d}"
    customer = identity_service.create_customer(
        db, wallet_account_id=account.id, name="刘洋", phone=phone
    )
    payment = flows.pay(
        db,
        account_id=account.id,
        merchant="美团外卖",
        amount_fen=128_00,
        currency="CNY",
        outcome="succeeded",
        ctx=ctx(),
    )
    case = make_case(db, settings, customer_id=customer.id)
    outcome = actions.perform(
        db,
        build_wallet(settings)(db),
        customer=customer,
        staff=make_staff(db, "agent"),
        request=actions.SupportRequest(
            action="refund",
            key=uuid.uuid4().hex,
            reason="商家确认未送达",
            transaction_id=str(payment.id),
            case_reference=case.reference,
        ),
        settings=settings,
        senders=build_senders(settings),
    )
    assert not outcome.waiting
    balance = db.scalar(select(WalletAccount.balance_fen).where(WalletAccount.id == account.id))
    senders = build_senders(settings)
    approved_at = utcnow()
    delay = timedelta(minutes=settings.refund_settlement_minutes)

    early = payout.settle_refunds(db, settings=settings, senders=senders, now=approved_at)
    assert early == []  # still settling
    paid = payout.settle_refunds(
        db, settings=settings, senders=senders, now=approved_at + delay + timedelta(seconds=1)
    )
    again = payout.settle_refunds(
        db, settings=settings, senders=senders, now=approved_at + 2 * delay
    )
    refund = db.scalars(select(Refund).where(Refund.payment_id == payment.id)).one()
    assert [(p.refund_id, p.told) for p in paid] == [(refund.id, True)]
    assert again == []
    assert refund.status == "paid"
    db.expire_all()
    after = db.scalar(select(WalletAccount.balance_fen).where(WalletAccount.id == account.id))
    assert after == (balance or 0) + 128_00
    sms = db.scalars(
        select(OutboxMessage).where(
            OutboxMessage.destination == phone, OutboxMessage.purpose == "refund_paid"
        )
    ).all()
    assert [m.body for m in sms] == ["您的退款 128.00 元已到账，已存入您的钱包余额。"]
    told = [e.body for e in timeline.events(db, case, public_only=True) if e.kind == "action"]
    assert told[-1] == "您的退款 128.00 元已到账，已存入您的钱包余额。"
    report = check.run(db)
    assert report.ok, report.breaches


def test_the_settlement_runs_on_the_scheduler(settings: Settings) -> None:
    queue = build_queue(Settings(**{**settings.model_dump(), "jobs_backend": "immediate"}))
    assert "refund_settlement" in queue.tasks
