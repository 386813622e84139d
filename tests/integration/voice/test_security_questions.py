"""The stolen-phone caller: no SMS code can reach them, so at the code prompt they press 9,
type the account number and answer their security questions by keypad, through the signed
carrier webhooks. Such a verification freezes the account but moves no money."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import make_staff
from tests.integration.voice.carrier import CarrierCall
from tests.integration.voice.conftest import STUCK_TOPUP, account_digits
from tests.integration.web.web_helpers import sign_in

from kefu.audit import AuditEvent
from kefu.chat.routing_models import WorkItem
from kefu.config import Settings
from kefu.db import utcnow
from kefu.demo import demo_security_answers
from kefu.errors import PermissionDenied
from kefu.i18n import translate
from kefu.identity import questions
from kefu.identity.models import Verification
from kefu.voice import menu, selfservice, views
from kefu.voice.engine import Ctx
from kefu.voice.models import VoiceCall, VoiceCallEvent
from kefu.wallet.models import WalletAccount

Ring = Callable[[str], CarrierCall]
ANOTHER_NUMBER = "+8613912340000"  # not the registered phone: that one was stolen
# well-formed answers that are nobody's
WRONG = {
    "birth_date": "19800101",
    "id_last6": "000000",
    "own_number": "000000",
    "mother_birthday": "0101",
}


def record(db: Session, call: CarrierCall) -> VoiceCall:
    found = db.scalar(select(VoiceCall).where(VoiceCall.call_sid == call.sid))
    assert found is not None
    db.refresh(found)
    return found


def asked(call: CarrierCall, lang: str = "zh-CN") -> str:
    """The question the caller was just asked, by its prompt."""
    found = [q for q in questions.QUESTIONS if call.said(translate(f"voice.id.q.ask.{q}", lang))]
    assert len(found) == 1, call.last
    return found[0]


def keypad(answer: str) -> str:
    return answer.replace("X", "*")  # the documented convention: X is typed as star


def to_questions(ring: Ring, account: str, *menu_keys: str) -> CarrierCall:
    """Ring from another number, choose a branch that needs the caller verified, type the
    account, then give up on the code: press 9 and type the account again."""
    call = ring(ANOTHER_NUMBER).press("1")
    for key in menu_keys:
        call.press(key)
    call.press(account + "#")
    assert call.said("如果您已经无法使用这部手机，请按九再按井号键")
    call.press("9#")
    assert call.said("请输入您的钱包账户号码中的数字")
    call.press(account + "#")
    assert call.said("请回答两个您设置过的安全问题")
    return call


def answer_all(call: CarrierCall, answers: dict[str, str]) -> None:
    for _ in range(2):
        call.press(keypad(answers[asked(call)]) + "#")


@pytest.fixture
def console(voice_app: FastAPI, demo_db: Session) -> Iterator[TestClient]:
    with TestClient(voice_app, raise_server_exceptions=False) as client:
        make_staff(demo_db, "agent", username="questions_agent")
        demo_db.commit()
        sign_in(client, "questions_agent")
        yield client


def test_a_stolen_phone_is_frozen_after_security_questions(
    ring: Ring,
    demo_db: Session,
    voice_app: FastAPI,
    voice_settings: Settings,
    console: TestClient,
) -> None:
    answers = demo_security_answers(STUCK_TOPUP)
    call = to_questions(ring, account_digits(STUCK_TOPUP), "3")
    answer_all(call, answers)
    assert call.said("身份核实成功。") and call.said("确认立即冻结请按一")
    call.press("1")
    assert call.said("您的账户已冻结。") and call.said("已为您登记工单，编号为：")

    row = record(demo_db, call)
    assert row.identified_by == "questions" and row.verified_at is not None
    assert row.results[0]["method"] == "account+security_questions"
    verification = demo_db.get(Verification, row.verification_id)
    assert verification is not None
    assert (verification.method, verification.channel, verification.status) == (
        "security_questions",
        "voice",
        "verified",
    )
    account = demo_db.get(WalletAccount, f"W{STUCK_TOPUP:09d}")
    assert account is not None and account.status == "frozen"

    # light: looking and freezing, never lifting a protection or moving money
    ctx = Ctx(
        db=demo_db,
        settings=voice_settings,
        senders=voice_app.state.senders,
        wallet=voice_app.state.wallet(demo_db),
        call=row,
        tree=menu.get(demo_db, row.menu_version),
        now=utcnow(),
    )
    asked = selfservice._asked(ctx, "freeze")
    assert asked.customer_id == row.customer_id
    asked.requester.require(demo_db, "wallet.act", "freeze")  # the support layer's check
    for money in ("unfreeze", "refund", "reverse_payment"):
        with pytest.raises(PermissionDenied):
            asked.requester.require(demo_db, "wallet.act", money)

    # the answers are nowhere: not in the TwiML, the call, its events or the audit trail
    events = list(
        demo_db.scalars(select(VoiceCallEvent.data).where(VoiceCallEvent.call_id == row.id))
    )
    audits = list(
        demo_db.scalars(select(AuditEvent.after).where(AuditEvent.customer_id == row.customer_id))
    )
    everything = " ".join(
        [*call.responses, str(row.state), str(row.results), str(events), str(audits)]
    )
    for answer in answers.values():
        assert answer not in everything and keypad(answer) not in everything

    # the agent sees what was verified, in both languages
    page = console.get(f"/console/customers/{row.customer_id}")
    assert page.status_code == 200
    section = page.text[page.text.index('id="ver-title"') :]
    assert "安全问题 ****0002 · 电话" in section  # the channel by its label, not its code
    assert "账户号 + 安全问题" in page.text
    english = console.get(f"/console/customers/{row.customer_id}?lang=en")
    assert "security questions ****0002" in english.text
    assert "Account number + security questions" in english.text
    shown = views.customer_calls(demo_db, row.customer_id or 0, "en")
    assert shown.calls[0].verified == "Account number + security questions"

    call.press("1")  # then a person, at once
    item = demo_db.scalar(select(WorkItem).where(WorkItem.call_sid == call.sid))
    assert item is not None and item.urgent and item.context["verified"] == "questions"


def test_an_unknown_account_is_asked_alike_and_locks_to_a_person(
    ring: Ring, demo_db: Session
) -> None:
    real = to_questions(ring, account_digits(STUCK_TOPUP), "3")
    fake = to_questions(ring, "987654321", "3")
    assert asked(fake) in questions.QUESTIONS and len(fake.last) == len(real.last)
    for remaining in ("二", "一"):
        for _ in range(2):
            fake.press(WRONG[asked(fake)] + "#")
        assert fake.said(f"回答与记录不符，您还可以再试{remaining}次")
    fake.press(WRONG[asked(fake)] + "#")
    fake.press(WRONG[asked(fake)] + "#")
    assert fake.said("回答错误次数过多，本次验证已锁定") and fake.state == "queue"
    assert record(demo_db, fake).verified_at is None
    locked = demo_db.scalar(
        select(Verification).where(
            Verification.method == "security_questions", Verification.status == "locked"
        )
    )
    assert locked is not None and locked.customer_id is None


def test_a_wrong_round_asks_again_and_a_malformed_answer_costs_nothing(
    ring: Ring, demo_db: Session
) -> None:
    answers = demo_security_answers(STUCK_TOPUP)
    call = to_questions(ring, account_digits(STUCK_TOPUP), "2", "1")
    first = asked(call)
    call.press("123#")  # too short for any question: said again, no try used
    assert asked(call) == first
    call.press(keypad(answers[first]) + "#")
    second = asked(call)
    call.press(WRONG[second] + "#")
    assert call.said("回答与记录不符，您还可以再试二次")
    assert asked(call) == first  # from the first question again
    answer_all(call, answers)
    assert call.said("身份核实成功。") and call.said("您的账户余额为")
    verification = demo_db.get(Verification, record(demo_db, call).verification_id)
    assert verification is not None and verification.failed_attempts == 1
