"""Two agents moving one customer's money at the same moment, in two processes on a real
database with real commits: the four-eyes count is locked per account, so the second is
counted after the first and waits for a supervisor instead of slipping under the limit
beside it. The first holds its transaction open until the second has started, so the two
overlap on every run instead of only when the scheduler happens to interleave them."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
import time

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from tests.integration.wallet.wallet_helpers import ctx, funded_account

from kefu.approvals.models import ApprovalRequest
from kefu.config import get_settings
from kefu.db import make_engine
from kefu.identity import service as identity_service
from kefu.identity.models import StaffUser
from kefu.support import money
from kefu.support.requester import Requester
from kefu.wallet import check, flows
from kefu.wallet.models import Movement, Refund
from kefu.wallet.port import build_wallet


def _act(
    url: str, action: str, username: str, first: bool, started: multiprocessing.synchronize.Event
) -> None:
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as db:
        agent = db.scalars(select(StaffUser).where(StaffUser.username == username)).one()
        payments = list(
            db.scalars(select(Movement.id).where(Movement.kind == "payment").order_by(Movement.id))
        )
        settings = get_settings()
        m = money.Money(db, build_wallet(settings)(db), settings)
        asked = money.Asked(
            requester=Requester.of_staff(agent), key=f"race-{username}", reason="客户要求退款"
        )
        db.rollback()
        if not first:
            started.wait(timeout=60)
        if action == "refund":  # both on the same payment
            money.refund(m, asked, payment_id=str(payments[0]), amount="499.00")
        else:  # each its own payment of the same customer
            money.reverse_payment(m, asked, payment_id=str(payments[0 if first else 1]))
        if first:
            started.set()
            time.sleep(1.0)  # the second agent asks while this action is not committed
        db.commit()
    engine.dispose()


@pytest.mark.parametrize("action", ["refund", "reverse"])
def test_two_agents_racing_cannot_split_around_four_eyes(
    isolated_database: Engine, action: str
) -> None:
    outcome = "succeeded" if action == "refund" else "deducted_failed"
    with Session(isolated_database) as db:
        account = funded_account(db, "3000.00", account_id="W-split")
        for amount_fen in (1999_00, 300_00) if action == "refund" else (300_00, 250_00):
            flows.pay(
                db,
                account_id=account.id,
                merchant="携程旅行",
                amount_fen=amount_fen,
                currency="CNY",
                outcome=outcome,
                ctx=ctx(),
            )
        for username in ("agent1", "agent2"):
            identity_service.create_staff(
                db, username=username, password="long-enough-pw", role="agent"
            )
        db.commit()
    url = isolated_database.url.render_as_string(hide_password=False)
    isolated_database.dispose()

    spawn = multiprocessing.get_context("spawn")
    started = spawn.Event()
    workers = [
        spawn.Process(target=_act, args=(url, action, name, name == "agent1", started))
        for name in ("agent1", "agent2")
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
    assert [process.exitcode for process in workers] == [0, 0]

    with Session(isolated_database) as db:
        if action == "refund":
            assert sorted(db.scalars(select(Refund.status))) == ["approved", "requested"]
        else:
            statuses = db.scalars(select(Movement.status).where(Movement.kind == "payment"))
            assert sorted(statuses) == ["deducted_failed", "reversed"]
        assert db.scalar(select(func.count()).select_from(ApprovalRequest)) == 1
        report = check.run(db)
        assert report.ok, report.breaches
