"""Two processes at the same moment, on a real database with real commits: the same form
sent twice files one request, and two supervisors approving it together return the money
once."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from tests.integration.wallet.wallet_helpers import ctx, funded_account

from kefu.approvals.errors import AlreadyDecided
from kefu.approvals.models import ApprovalRequest, SupportAction
from kefu.audit import AuditEvent
from kefu.channels.senders import build_senders
from kefu.config import get_settings
from kefu.db import make_engine
from kefu.identity import service as identity_service
from kefu.identity.models import Customer, StaffUser
from kefu.support import actions, approval
from kefu.support.base import Asked, Money
from kefu.support.requester import Requester
from kefu.wallet import check, flows
from kefu.wallet.models import Movement, WalletAccount
from kefu.wallet.port import build_wallet

FORM_KEY = "form-7Qx2"


def _submit(url: str, barrier: multiprocessing.synchronize.Barrier) -> None:
    engine = make_engine(url)
    barrier.wait()
    with Session(engine, expire_on_commit=False) as db:
        customer = db.scalars(select(Customer)).one()
        agent = db.scalars(select(StaffUser).where(StaffUser.username == "agent")).one()
        payment = db.scalars(select(Movement).where(Movement.kind == "payment")).one()
        actions.perform(
            db,
            build_wallet(get_settings())(db),
            customer=customer,
            staff=agent,
            request=actions.SupportRequest(
                action="refund",
                key=FORM_KEY,
                reason="商户超时，订单未成立",
                transaction_id=str(payment.id),
            ),
            settings=get_settings(),
            senders=build_senders(get_settings()),
        )
        db.commit()
    engine.dispose()


def _approve(url: str, username: str, barrier: multiprocessing.synchronize.Barrier) -> None:
    engine = make_engine(url)
    barrier.wait()
    with Session(engine, expire_on_commit=False) as db:
        decider = db.scalars(select(StaffUser).where(StaffUser.username == username)).one()
        request = db.scalars(select(ApprovalRequest)).one()
        try:
            approval.decide(
                Money(db, build_wallet(get_settings())(db), get_settings()),
                Asked(requester=Requester.of_staff(decider), key="", reason=""),
                approval_id=request.id,
                approve=True,
                reason=None,
            )
            db.commit()
        except AlreadyDecided:
            db.rollback()
    engine.dispose()


def _run_pair(url: str, target, args: list[tuple[object, ...]]) -> None:  # type: ignore[no-untyped-def]
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(2)
    workers = [spawn.Process(target=target, args=(url, *extra, barrier)) for extra in args]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
    assert [process.exitcode for process in workers] == [0, 0]


def test_one_request_and_one_return_under_concurrency(isolated_database: Engine) -> None:
    with Session(isolated_database) as db:
        account = funded_account(db, "3000.00", account_id="W-race")
        flows.pay(
            db,
            account_id=account.id,
            merchant="美团外卖",
            amount_fen=1288_00,
            currency="CNY",
            outcome="deducted_failed",
            ctx=ctx(),
        )
        identity_service.create_customer(
            db, wallet_account_id=account.id, name="刘洋", phone="13800009999"
        )
        for username, role in (
            ("agent", "agent"),
            ("boss1", "supervisor"),
            ("boss2", "supervisor"),
        ):
            identity_service.create_staff(
                db, username=username, password="long-enough-pw", role=role
            )
        db.commit()
        before = account.balance_fen
    url = isolated_database.url.render_as_string(hide_password=False)
    isolated_database.dispose()

    _run_pair(url, _submit, [(), ()])
    _run_pair(url, _approve, [("boss1",), ("boss2",)])

    with Session(isolated_database) as db:
        assert db.scalar(select(func.count()).select_from(SupportAction)) == 1
        request = db.scalars(select(ApprovalRequest)).one()
        assert request.status == "approved"
        reversals = db.scalars(
            select(AuditEvent).where(AuditEvent.action == "wallet.reverse_payment")
        ).all()
        assert len(reversals) == 1
        balance = db.scalar(select(WalletAccount.balance_fen).where(WalletAccount.id == "W-race"))
        assert balance == before + 1288_00
        report = check.run(db)
        assert report.ok, report.breaches
