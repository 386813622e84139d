"""Two processes move money out of one account at the same moment, on a real database with
real commits: the account is never overdrawn, and a key both of them use moves money once."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from tests.integration.wallet.wallet_helpers import ctx, funded_account

from kefu.db import make_engine
from kefu.errors import KefuError
from kefu.wallet import accounts, check, flows
from kefu.wallet.models import IdempotencyKey, Movement, WalletAccount

ATTEMPTS = 15
AMOUNT_FEN = 7_00
START_FEN = 100_00


def _spend(url: str, worker: int, barrier: multiprocessing.synchronize.Barrier) -> None:
    """Alternate a key only this worker uses with one both workers use."""
    engine = make_engine(url)
    barrier.wait()
    for attempt in range(ATTEMPTS):
        key = f"shared-{attempt}" if attempt % 2 else f"own-{worker}-{attempt}"
        with Session(engine, expire_on_commit=False) as db:
            try:
                flows.transfer(
                    db,
                    account_id="W-source",
                    to_account_id=f"W-sink-{worker}",
                    amount_fen=AMOUNT_FEN,
                    currency="CNY",
                    ctx=ctx(key),
                )
                db.commit()
            except KefuError:
                db.rollback()
    engine.dispose()


def test_two_processes_never_overdraw_one_account(isolated_database: Engine) -> None:
    with Session(isolated_database) as db:
        funded_account(db, "100.00", account_id="W-source")
        for worker in (0, 1):
            accounts.open_account(
                db, account_id=f"W-sink-{worker}", name="收款人", phone=None, email=None
            )
        db.commit()
    url = isolated_database.url.render_as_string(hide_password=False)
    isolated_database.dispose()
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(2)
    workers = [spawn.Process(target=_spend, args=(url, worker, barrier)) for worker in (0, 1)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
    assert [process.exitcode for process in workers] == [0, 0]
    with Session(isolated_database) as db:
        balance = db.scalar(select(WalletAccount.balance_fen).where(WalletAccount.id == "W-source"))
        transfers = db.scalars(select(Movement.id).where(Movement.kind == "transfer")).all()
        keys = db.scalar(
            select(func.count())
            .select_from(IdempotencyKey)
            .where(IdempotencyKey.operation == "transfer")
        )
        report = check.run(db)
    assert report.ok, report.breaches
    assert balance is not None and balance >= 0
    assert START_FEN - balance == AMOUNT_FEN * len(transfers)
    # 100.00 buys 14 transfers of 7.00, and both workers tried more than that between them
    assert len(transfers) == START_FEN // AMOUNT_FEN
    # every transfer has its own key: no key, shared or not, moved money twice
    assert keys == len(transfers)
