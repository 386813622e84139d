"""Quality figures summed for a block's end (``events.batched``: an assistant's turn, a call's
step, a batch of deferred work) leave out what a savepoint rolled back inside the block
took with it, and keep the rest: the rollups equal a rebuild from the events that stand.
(The group commit's and a support command's savepoints: ``tests/integration/chat/
test_dbwork.py``.)"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.integration.cases.case_helpers import make_case
from tests.integration.quality.helpers import T0
from tests.integration.wallet.wallet_helpers import funded_account

from kefu import audit
from kefu.cases.errors import CaseNotFound
from kefu.config import Settings
from kefu.identity import service as identity_service
from kefu.quality import events, metrics, rebuild
from kefu.quality.models import ContactEvent, QualityContact, QualityRollup
from kefu.support import account, money
from kefu.support.requester import Requester
from kefu.wallet.models import WalletAccount
from kefu.wallet.port import build_wallet


def _rollups(db: Session) -> list[tuple[object, ...]]:
    table = QualityRollup.__table__
    key = [table.c.grain, table.c.period_start, table.c.channel, table.c.category]
    counters = [table.c[name] for name in metrics.COUNTERS]
    found = db.execute(select(*key, table.c.staff_id, *counters).order_by(*key, "staff_id"))
    # rows whose counters all went back to zero say nothing; float sums added in another
    # order may differ in the last bits
    return [
        tuple(round(v, 6) if isinstance(v, float) else v for v in row)
        for row in found
        if any(row[5:])
    ]


def _equal_to_a_rebuild(db: Session) -> list[tuple[object, ...]]:
    db.commit()
    kept = _rollups(db)
    rebuild.rebuild_all(db)
    assert _rollups(db) == kept
    return kept


def _arrived(db: Session, call_sid: str, customer_id: int) -> None:
    events.record(
        db,
        "contact_arrived",
        channel="phone",
        at=T0,
        call_sid=call_sid,
        customer_id=customer_id,
        category="account_stolen",
    )


def test_a_wallet_action_refused_after_it_counted_for_a_new_contact_leaves_no_figure(
    db: Session, settings: Settings
) -> None:
    """A freeze asked on a call nobody has counted yet: the wallet freezes the account (its
    own savepoint), the support layer counts the action, which makes the call's contact,
    and then refuses to note it on a case that is not the holder's. The command's savepoint
    undoes the freeze, the event and the contact; its figures went with them, and the
    call's step goes on (another call's arrival in the same block stands)."""
    wallet_account = funded_account(db, "100.00")
    holder = identity_service.create_customer(
        db,
        wallet_account_id=wallet_account.id,
        name="王芳",
        phone=f"+86136{uuid.uuid4().int % 10**8:08d}",
    )
    not_theirs = make_case(db, settings)
    asked = money.Asked(
        requester=Requester.in_emergency(audit.Actor("assistant:call:test", "assistant")),
        key=uuid.uuid4().hex,
        reason="账户被盗",
        customer_id=holder.id,
        case_reference=not_theirs.reference,
        contact=money.Contact(channel="phone", call_sid="CA-refused", category="account_stolen"),
    )
    desk = money.Money(db, build_wallet(settings)(db), settings, now=T0)
    with events.batched(db):
        _arrived(db, "CA-stands", holder.id)
        with pytest.raises(CaseNotFound):
            account.freeze(desk, asked, account_id=wallet_account.id, reason="stolen")
    assert db.get(WalletAccount, wallet_account.id).status == "active"  # type: ignore[union-attr]
    assert db.scalar(select(func.count()).select_from(ContactEvent)) == 1 + 1  # the case's too
    kept = _equal_to_a_rebuild(db)
    assert kept
    # the call that stands and the other customer's case
    assert db.scalar(select(func.count()).select_from(QualityContact)) == 2
