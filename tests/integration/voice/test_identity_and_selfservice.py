"""Identity by keypad under the identity domain's rules, then self-service through the
wallet port and the cases: balance, last top-up and its reason, freeze, case progress."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.integration.voice.carrier import CarrierCall
from tests.integration.voice.conftest import (
    ENGLISH,
    FAILED_TOPUP,
    FROZEN,
    LOCKED,
    STUCK_TOPUP,
    account_digits,
    last_code,
    phone_of,
)

from kefu.audit import AuditEvent
from kefu.cases import refs, timeline
from kefu.cases import service as cases_service
from kefu.chat.routing_models import WorkItem
from kefu.identity import service as identity_service
from kefu.identity.models import Verification
from kefu.quality.models import ContactEvent
from kefu.voice.models import VoiceCall, VoiceCallEvent
from kefu.wallet.models import WalletAccount

Ring = Callable[[str], CarrierCall]
UNKNOWN = "+8613912345678"


def record(db: Session, call: CarrierCall) -> VoiceCall:
    found = db.scalar(select(VoiceCall).where(VoiceCall.call_sid == call.sid))
    assert found is not None
    db.refresh(found)
    return found


def verified_call(ring: Ring, db: Session, index: int, *keys: str, lang: str = "1") -> CarrierCall:
    call = ring(phone_of(index)).press(lang)
    for key in keys:
        call.press(key)
    call.press("1")  # send the code to the registered phone
    return call.press(last_code(db, phone_of(index)))


def test_caller_id_then_a_code_by_sms_gives_the_balance(ring: Ring, demo_db: Session) -> None:
    call = ring(phone_of(STUCK_TOPUP)).press("1").press("2").press("1")
    assert call.said("尾号零零零二的注册手机")
    call.press("1")
    assert call.said("请输入六位短信验证码")
    code = last_code(demo_db, phone_of(STUCK_TOPUP))
    call.press(code)
    assert call.last[0] == "身份核实成功。"
    assert call.said("您的账户余额为") and call.said("元")
    assert call.said("充值、支付与转账。")  # back in the money menu
    row = record(demo_db, call)
    assert row.identified_by == "caller_id" and row.verification_id is not None
    assert row.results[-1] == {"action": "balance", "status": "active"}
    verification = demo_db.get(Verification, row.verification_id)
    assert verification is not None
    assert (verification.channel, verification.status) == ("voice", "verified")
    everything = " ".join(call.responses) + str(row.state) + str(row.results)
    events = demo_db.scalars(select(VoiceCallEvent.data).where(VoiceCallEvent.call_id == row.id))
    assert code not in everything and code not in str(list(events))


def test_a_balance_in_english_is_spoken_as_money(ring: Ring, demo_db: Session) -> None:
    call = verified_call(ring, demo_db, ENGLISH, "2", "1", lang="2")
    spoken = " ".join(call.last)
    assert "Your balance is" in spoken and "yuan" in spoken
    assert not any(char.isdigit() for char in spoken)


def test_unknown_caller_uses_the_account_number(ring: Ring, demo_db: Session) -> None:
    call = ring(UNKNOWN).press("1").press("2").press("1")
    assert call.said("需要先核实您的身份") and call.said("请输入您的钱包账户号码")
    call.press(account_digits(LOCKED) + "#")
    call.press(last_code(demo_db, phone_of(LOCKED)))
    assert call.said("您的账户余额为") and call.said("您的账户目前处于锁定状态")
    assert record(demo_db, call).identified_by == "account"
    assert (
        record(demo_db, call).customer_id
        == identity_service.find_customer_by_contact(demo_db, phone_of(LOCKED)).id
    )  # type: ignore[union-attr]


def test_an_unknown_account_is_answered_alike_and_never_verifies(
    ring: Ring, demo_db: Session
) -> None:
    real = ring(UNKNOWN).press("1").press("2").press("1").press(account_digits(LOCKED) + "#")
    fake = ring("+8613900000000").press("1").press("2").press("1").press("987654321#")
    assert fake.last == real.last
    for attempt, remaining in ((1, "四"), (2, "三"), (3, "二"), (4, "一")):
        fake.press("123456")
        assert fake.said(f"您还可以再试{remaining}次"), attempt
    fake.press("123456")
    assert fake.said("本次验证已锁定") and fake.state == "queue"
    assert record(demo_db, fake).verified_at is None


def test_wrong_codes_lock_the_verification_and_a_person_takes_over(
    ring: Ring, demo_db: Session
) -> None:
    call = ring(phone_of(STUCK_TOPUP)).press("1").press("3").press("1")
    call.press("12345")
    assert call.said("验证码是六位数字。")  # not a code at all: no try used
    right = last_code(demo_db, phone_of(STUCK_TOPUP))
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(4):
        call.press(wrong)
    assert call.said("您还可以再试一次")
    call.press(wrong)
    assert call.said("本次验证已锁定")
    assert call.state == "queue"
    item = demo_db.scalar(select(WorkItem).where(WorkItem.call_sid == call.sid))
    assert item is not None and (item.category, item.urgent) == ("account_stolen", True)
    row = record(demo_db, call)
    assert row.verified_at is None
    locked = demo_db.scalar(select(Verification).where(Verification.status == "locked"))
    assert locked is not None and locked.channel == "voice"


def test_a_new_code_too_soon_is_refused_with_the_wait(ring: Ring, demo_db: Session) -> None:
    call = ring(phone_of(STUCK_TOPUP)).press("1").press("2").press("1").press("1")
    call.press("*")
    assert call.said("验证码刚刚发送过，请") and call.said("秒后再试")


def test_freezing_a_stolen_account_at_once(ring: Ring, demo_db: Session) -> None:
    call = verified_call(ring, demo_db, STUCK_TOPUP, "3")
    assert call.said("确认立即冻结请按一")
    call.press("1")
    assert call.said("您的账户已冻结。")
    assert call.said("已为您登记工单，编号为：") and call.said("我们承诺在")
    row = record(demo_db, call)
    assert row.reference_told is not None and row.urgent
    spoken_reference = next(line for line in call.last if "编号为" in line)
    digits = refs.parse(row.reference_told).digits
    assert "幺" in spoken_reference or "1" not in digits
    case = cases_service.get_case(demo_db, row.reference_told)
    assert (case.category, case.priority, case.channel) == ("account_stolen", "urgent", "voice")
    customer = identity_service.get_customer(demo_db, row.customer_id or 0)
    account = demo_db.scalar(
        select(WalletAccount).where(WalletAccount.id == customer.wallet_account_id)
    )
    assert account is not None and account.status == "frozen"
    audit_row = demo_db.scalar(
        select(AuditEvent)
        .where(AuditEvent.action == "wallet.freeze")
        .order_by(AuditEvent.id.desc())
    )
    assert audit_row is not None and audit_row.actor == f"assistant:call:{call.sid}"
    assert audit_row.actor_role == "assistant"
    # the support layer counted the action for the call's service-quality figures
    counted = demo_db.scalars(
        select(ContactEvent).where(
            ContactEvent.call_sid == call.sid, ContactEvent.kind == "action_done"
        )
    ).all()
    assert [(e.channel, e.data["action"]) for e in counted] == [("phone", "freeze")]
    call.press("1")  # a person, now
    assert call.state == "queue"
    item = demo_db.scalar(select(WorkItem).where(WorkItem.call_sid == call.sid))
    assert item is not None and item.urgent and item.category == "account_stolen"
    assert item.context["case_reference"] == row.reference_told


def test_an_already_frozen_account_is_said_so(ring: Ring, demo_db: Session) -> None:
    call = verified_call(ring, demo_db, FROZEN, "3")
    assert call.said("您的账户已经处于冻结状态")
    call.press("*")
    assert call.said("请选择您需要的服务。")


def test_the_last_top_up_its_reason_and_a_trace(ring: Ring, demo_db: Session) -> None:
    failed = verified_call(ring, demo_db, FAILED_TOPUP, "2", "2")
    assert failed.said("一万九千元") and failed.said("这笔充值没有成功")
    assert failed.said("原因：超过了充值限额。")
    stuck = verified_call(ring, demo_db, STUCK_TOPUP, "2", "2")
    assert stuck.said("五百元") and stuck.said("正在等待银行确认")
    stuck.press("1")
    row = record(demo_db, stuck)
    assert row.reference_told is not None
    case = cases_service.get_case(demo_db, row.reference_told)
    assert case.category == "recharge_not_credited"
    assert [link.kind for link in cases_service.links(demo_db, case)] == ["topup"]
    # traced through the support layer: its audit row and the note the caller can read
    traced = demo_db.scalars(
        select(AuditEvent).where(AuditEvent.action == "wallet.topup.trace")
    ).all()
    assert [(e.case_reference, e.actor_role) for e in traced] == [(case.reference, "assistant")]
    notes = [e for e in timeline.events(demo_db, case, public_only=True) if e.kind == "action"]
    assert [e.body for e in notes] == ["我们已开始追查您 500.00 元的充值，会尽快告诉您结果。"]


def test_case_progress_by_its_keypad_reference(ring: Ring, demo_db: Session) -> None:
    call = verified_call(ring, demo_db, STUCK_TOPUP, "3")
    call.press("1")  # freeze: a case is opened and its reference told
    reference = record(demo_db, call).reference_told
    assert reference is not None
    digits = refs.parse(reference).digits
    call.press("*").press("4")  # still verified in this call: no second code
    assert call.said("请输入十三位数字的工单编号")
    mistyped = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    call.press(mistyped + "#")
    assert call.said("校验位不对")
    call.press(digits[:5] + "#")
    assert call.said("工单编号是十三位数字。")
    call.press(digits + "#")
    assert call.said("问题类别：账户被盗") and call.said("我们承诺在")
    assert record(demo_db, call).case_reference == reference


def test_another_customers_case_is_not_found(ring: Ring, demo_db: Session) -> None:
    opened = verified_call(ring, demo_db, STUCK_TOPUP, "3")
    opened.press("1")
    reference = record(demo_db, opened).reference_told
    assert reference is not None
    call = verified_call(ring, demo_db, LOCKED, "4")
    call.press(refs.parse(reference).digits + "#")
    assert call.said("没有查到您名下的这个工单。")


def test_hanging_up_mid_verification_keeps_the_record(ring: Ring, demo_db: Session) -> None:
    call = ring(phone_of(STUCK_TOPUP)).press("1").press("2").press("1").press("1")
    call.end()
    row = record(demo_db, call)
    assert (row.status, row.outcome, row.step) == ("ended", "hung_up", "id.code")
    assert row.duration_seconds == 120
    pending = demo_db.scalar(
        select(Verification).where(Verification.channel == "voice").order_by(Verification.id.desc())
    )
    assert pending is not None and pending.status == "pending"
    assert call.said("请输入六位短信验证码")
