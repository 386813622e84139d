"""Support actions from the console and the four-eyes approvals behind the risky ones,
through the real wallet, cases and audit services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories import make_staff
from tests.integration.cases.case_helpers import make_case
from tests.integration.wallet.wallet_helpers import ctx, funded_account

from kefu.approvals import service
from kefu.approvals.errors import AlreadyDecided, OwnRequest
from kefu.approvals.models import ApprovalRequest, SupportAction
from kefu.audit import AuditEvent
from kefu.cases import service as cases_service
from kefu.cases import timeline
from kefu.cases.errors import CaseNotFound
from kefu.channels.senders import build_senders
from kefu.config import Settings
from kefu.errors import InvalidInput, PermissionDenied
from kefu.identity import service as identity_service
from kefu.identity.models import Customer, StaffUser
from kefu.support import actions, approval
from kefu.support.base import Asked, Money
from kefu.support.requester import Requester
from kefu.wallet import flows, ledger
from kefu.wallet.errors import IllegalTransition, WalletNotFound
from kefu.wallet.models import Movement, Refund, WalletAccount
from kefu.wallet.port import WalletGateway, build_wallet


@dataclass
class Desk:
    db: Session
    settings: Settings
    wallet: WalletGateway
    customer: Customer
    account: WalletAccount
    agent: StaffUser
    supervisor: StaffUser

    def act(
        self, action: str, *, staff: StaffUser | None = None, key: str | None = None, **fields: str
    ) -> actions.Outcome:
        request = actions.SupportRequest(
            action=action,
            key=uuid.uuid4().hex if key is None else key,
            reason=fields.pop("reason", "客户来电要求"),
            **fields,
        )
        return actions.perform(
            self.db,
            self.wallet,
            customer=self.customer,
            staff=staff or self.agent,
            request=request,
            settings=self.settings,
            senders=build_senders(self.settings),
        )

    def pay(self, amount: str, outcome: str = "succeeded") -> Movement:
        return flows.pay(
            self.db,
            account_id=self.account.id,
            merchant="美团外卖",
            amount_fen=ledger.to_fen(amount),
            currency="CNY",
            outcome=outcome,
            ctx=ctx(),
        )

    def decide(self, approval_id: int, staff: StaffUser, approve: bool = True, reason: str = ""):  # type: ignore[no-untyped-def]
        return approval.decide(
            Money(self.db, self.wallet, self.settings),
            Asked(requester=Requester.of_staff(staff), key="", reason=""),
            approval_id=approval_id,
            approve=approve,
            reason=reason,
        )


@pytest.fixture
def desk(db: Session, settings: Settings) -> Desk:
    account = funded_account(db, "5000.00")
    customer = identity_service.create_customer(
        db, wallet_account_id=account.id, name="刘洋", phone=f"+86137{uuid.uuid4().int % 10**8:08d}"
    )
    return Desk(
        db=db,
        settings=settings,
        wallet=build_wallet(settings)(db),
        customer=customer,
        account=account,
        agent=make_staff(db, "agent"),
        supervisor=make_staff(db, "supervisor"),
    )


def _audit(db: Session, action: str) -> list[AuditEvent]:
    db.commit()  # audit rows are written when their transaction commits
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_small_refund_is_done_at_once_with_reason_and_case_in_the_audit(desk: Desk) -> None:
    payment = desk.pay("120.00")
    case = make_case(desk.db, desk.settings, customer_id=desk.customer.id)
    outcome = desk.act(
        "refund",
        transaction_id=str(payment.id),
        reason="商家已确认退货 卡号6222020200112233446",
        case_reference=case.reference.lower(),
    )
    assert not outcome.waiting
    assert outcome.case_reference == case.reference
    refund = desk.db.scalars(select(Refund).where(Refund.payment_id == payment.id)).one()
    assert (refund.status, refund.amount_fen) == ("approved", 120_00)
    decided = _audit(desk.db, "wallet.refund.decide")[-1]
    assert decided.case_reference == case.reference
    assert decided.customer_id == desk.customer.id
    assert "商家已确认退货" in (decided.after or "")
    assert "6222020200112233446" not in (decided.after or "")  # the reason is masked
    notes = [e for e in timeline.events(desk.db, case) if e.kind == "action"]
    assert [timeline.event_data(e)["action"] for e in notes] == ["wallet.refund"]
    told = [e.body for e in timeline.events(desk.db, case, public_only=True) if e.kind == "action"]
    assert told == ["您的退款 120.00 元已批准，将退回您的钱包。"]  # the customer reads it


def test_a_double_click_refunds_once(desk: Desk) -> None:
    payment = desk.pay("80.00")
    first = desk.act("refund", key="form-1", transaction_id=str(payment.id))
    again = desk.act("refund", key="form-1", transaction_id=str(payment.id))
    assert first == again
    count = desk.db.scalar(
        select(func.count()).select_from(Refund).where(Refund.payment_id == payment.id)
    )
    assert count == 1
    with pytest.raises(Exception, match="another action"):
        desk.act("unlock", key="form-1")


def test_a_large_refund_waits_for_a_second_supervisor(desk: Desk) -> None:
    payment = desk.pay("1288.00")
    outcome = desk.act("refund", transaction_id=str(payment.id), key="big-refund")
    assert outcome.waiting
    refund = desk.db.scalars(select(Refund).where(Refund.payment_id == payment.id)).one()
    assert refund.status == "requested"  # the wallet's own review state is the wait
    assert outcome.approval_id is not None
    # the agent who asked may not decide any request: refused for that before it is theirs
    with pytest.raises(PermissionDenied) as refused:
        desk.decide(outcome.approval_id, desk.agent)
    assert not isinstance(refused.value, OwnRequest)
    with pytest.raises(PermissionDenied):
        desk.decide(outcome.approval_id, make_staff(desk.db, "agent"))
    with pytest.raises(PermissionDenied):
        desk.decide(outcome.approval_id, make_staff(desk.db, "specialist"))
    approved = desk.decide(outcome.approval_id, desk.supervisor)
    assert (approved.status, approved.result_ref) == ("approved", str(refund.id))
    desk.db.refresh(refund)
    assert refund.status == "approved"
    assert desk.decide(outcome.approval_id, desk.supervisor).status == "approved"  # repeat
    with pytest.raises(AlreadyDecided):
        desk.decide(
            outcome.approval_id, make_staff(desk.db, "supervisor"), approve=False, reason="不同意"
        )
    events = _audit(desk.db, "approval.approved")
    assert [e.actor for e in events] == [f"staff:{desk.supervisor.username}"]
    decisions = [e for e in _audit(desk.db, "wallet.refund.decide") if str(refund.id) in e.after]
    assert len(decisions) == 1


def test_a_large_deducted_payment_is_reversed_once_after_approval(desk: Desk) -> None:
    payment = desk.pay("1288.00", outcome="deducted_failed")
    case = make_case(desk.db, desk.settings, customer_id=desk.customer.id)
    balance = desk.wallet.get_account(desk.account.id).balance
    first = desk.act(
        "refund", transaction_id=str(payment.id), key="rev-1", case_reference=case.reference
    )
    twin = desk.act(
        "refund", transaction_id=str(payment.id), key="rev-1", case_reference=case.reference
    )
    later = desk.act("refund", transaction_id=str(payment.id), key="rev-2")
    assert first.approval_id == twin.approval_id == later.approval_id
    assert desk.wallet.get_account(desk.account.id).balance == balance  # nothing moved yet
    assert first.approval_id is not None
    desk.decide(first.approval_id, desk.supervisor)
    desk.decide(first.approval_id, desk.supervisor)
    assert desk.wallet.get_transaction(str(payment.id)).status == "reversed"
    assert desk.wallet.get_account(desk.account.id).balance == balance + Decimal("1288.00")
    reversals = _audit(desk.db, "wallet.reverse_payment")
    assert [(e.actor, e.case_reference) for e in reversals] == [
        (f"staff:{desk.supervisor.username}", case.reference)
    ]
    told = [e.body for e in timeline.events(desk.db, case, public_only=True) if e.kind == "action"]
    assert told == [
        "您的退回扣款申请已提交主管审核，有结果后会在这里告诉您。",
        "已扣款但未成功的支付 1288.00 元已退回您的钱包余额。",
    ]


def test_a_small_deducted_payment_is_reversed_at_once(desk: Desk) -> None:
    payment = desk.pay("88.00", outcome="deducted_failed")
    assert not desk.act("refund", transaction_id=str(payment.id)).waiting
    assert desk.wallet.get_transaction(str(payment.id)).status == "reversed"


def test_rejecting_a_refund_needs_a_reason_and_rejects_it_in_the_wallet(desk: Desk) -> None:
    payment = desk.pay("900.00")
    outcome = desk.act("refund", transaction_id=str(payment.id))
    assert outcome.approval_id is not None
    with pytest.raises(InvalidInput):
        desk.decide(outcome.approval_id, desk.supervisor, approve=False, reason="  ")
    rejected = desk.decide(
        outcome.approval_id, desk.supervisor, approve=False, reason="商家不同意退款"
    )
    assert (rejected.status, rejected.decision_reason) == ("rejected", "商家不同意退款")
    refund = desk.db.scalars(select(Refund).where(Refund.payment_id == payment.id)).one()
    assert (refund.status, refund.decision_reason) == ("rejected", "商家不同意退款")


def test_unfreezing_always_takes_two_supervisors(desk: Desk) -> None:
    desk.act("freeze", freeze_reason="stolen")
    assert desk.wallet.get_account(desk.account.id).status == "frozen"
    outcome = desk.act("unfreeze", staff=desk.supervisor)
    assert outcome.approval_id is not None
    with pytest.raises(OwnRequest):
        desk.decide(outcome.approval_id, desk.supervisor)
    desk.decide(outcome.approval_id, make_staff(desk.db, "supervisor"))
    assert desk.wallet.get_account(desk.account.id).status == "active"
    with pytest.raises(IllegalTransition):
        desk.act("unfreeze")  # not frozen: refused before anyone is asked


def test_direct_actions_check_their_input(desk: Desk) -> None:
    with pytest.raises(InvalidInput):
        desk.act("freeze", freeze_reason="because")
    with pytest.raises(InvalidInput):
        desk.act("password_reset", reason=" ")
    with pytest.raises(InvalidInput):
        desk.act("launch_rocket")
    with pytest.raises(InvalidInput):
        desk.act("unlock", key="")
    with pytest.raises(IllegalTransition):
        desk.act("unlock")  # the account is not locked
    other = funded_account(desk.db, "100.00")
    theirs = flows.pay(
        desk.db,
        account_id=other.id,
        merchant="淘宝",
        amount_fen=50_00,
        currency="CNY",
        outcome="succeeded",
        ctx=ctx(),
    )
    with pytest.raises(WalletNotFound):
        desk.act("refund", transaction_id=str(theirs.id))
    stranger_case = make_case(desk.db, desk.settings)
    with pytest.raises(CaseNotFound):
        desk.act("password_reset", case_reference=stranger_case.reference)
    assert desk.db.scalar(select(func.count()).select_from(SupportAction)) == 0


def test_disputes_above_the_amount_wait_for_approval(desk: Desk) -> None:
    small, large = desk.pay("60.00"), desk.pay("1999.00")
    assert not desk.act("dispute", transaction_id=str(small.id)).waiting
    assert desk.wallet.list_disputes(desk.account.id)[0].transaction_id == str(small.id)
    outcome = desk.act("dispute", transaction_id=str(large.id), reason="客户否认这笔消费")
    assert outcome.approval_id is not None
    assert len(desk.wallet.list_disputes(desk.account.id)) == 1
    desk.decide(outcome.approval_id, desk.supervisor)
    opened = {d.transaction_id: d for d in desk.wallet.list_disputes(desk.account.id)}
    assert opened[str(large.id)].reason == "客户否认这笔消费"


def test_tracing_a_top_up_opens_one_case_and_reuses_it(desk: Desk) -> None:
    card = desk.wallet.get_account(desk.account.id).cards[0]
    top_up = flows.start_top_up(
        desk.db,
        account_id=desk.account.id,
        card_id=int(card.id),
        amount_fen=500_00,
        currency="CNY",
        ctx=ctx(),
    )
    first = desk.act("trace_topup", transaction_id=str(top_up.id), key="trace-1")
    assert desk.act("trace_topup", transaction_id=str(top_up.id), key="trace-1") == first
    second = desk.act("trace_topup", transaction_id=str(top_up.id), key="trace-2")
    assert first.case_reference is not None
    assert second.case_reference == first.case_reference
    case = cases_service.get_case(desk.db, first.case_reference)
    assert case.category == "recharge_not_credited"
    assert "500.00" in case.subject
    assert [(link.kind, link.external_id) for link in cases_service.links(desk.db, case)] == [
        ("topup", str(top_up.id))
    ]
    traced = _audit(desk.db, "wallet.topup.trace")
    assert len(traced) == 2
    assert all(e.case_reference == case.reference for e in traced)
    payment = desk.pay("10.00")
    with pytest.raises(InvalidInput):
        desk.act("trace_topup", transaction_id=str(payment.id))


def test_the_queue_lists_oldest_first_with_names(desk: Desk) -> None:
    one, two = desk.pay("700.00"), desk.pay("800.00")
    desk.act("refund", transaction_id=str(one.id))
    desk.act("refund", transaction_id=str(two.id))
    queue = service.pending(desk.db)
    assert [r.request.amount for r in queue][-2:] == ["700.00", "800.00"]
    assert queue[-1].requested_by == desk.agent.display_name
    mine = service.of_customer(desk.db, customer_id=desk.customer.id)
    assert {r.request.status for r in mine} == {"pending"}
    assert desk.db.scalar(select(func.count()).select_from(ApprovalRequest)) >= 2
