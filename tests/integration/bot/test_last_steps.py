"""The last turn of every flow, through every surface: the answer says what was done, carries
the flow's intent (stored with the message too) and its case, and a retry of the same
``client_msg_id`` (WeChat: the same MsgId) answers the same reply without acting again."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.integration.wechat.conftest import WeChat, client_for, wechat_settings

from kefu.audit import AuditEvent
from kefu.chat.models import ChatMessage
from kefu.config import Settings
from kefu.inbound.wechat.models import WeChatFollower

from .conftest import Chat, last_code, phone_of


@dataclass(frozen=True)
class Flow:
    """A customer with a problem, what they say first, and their answers after the code;
    an answer ``pick:X`` taps the option whose label holds X. The last answer is the one
    retried."""

    intent: str
    customer: int
    opening: str
    answers: tuple[str, ...]
    expect: str  # in the last reply
    case: bool
    verify: bool = True
    lang: str = "zh-CN"


FLOWS = {
    "unlock": Flow("account_locked", 1, "我的账户被锁定了，登录不了", ("是",), "解锁", False),
    "unlock_then_no_reset": Flow(
        "account_locked", 1, "账户锁了登不上", ("是", "不用了"), "还有", False
    ),
    "stolen_freeze": Flow(
        "account_stolen", 12, "我的账号被盗了，快帮我冻结", ("13800000012",), "冻结", False,
        verify=False,
    ),
    "payment_reversal": Flow(
        "payment_failed", 4, "付款失败了但是钱被扣了", ("是",), "¥88.00", False
    ),
    "refund_review": Flow("refund", 7, "我的退款被拒绝了", ("是",), "复核", True),
    "unauthorised_freeze": Flow(
        "unauthorized_transaction", 8, "有一笔消费不是我本人操作的，我没买过这个",
        ("pick:¥1,999.00", "是"), "冻结", True,
    ),
    "suspicious_login_freeze": Flow(
        "suspicious_login", 9, "收到异常登录提醒，说我在别的地方登录了", ("不是我",), "冻结", True
    ),
    "recharge_traced": Flow(
        "recharge_not_credited", 2, "我今天充值了500元，到现在还没到账", (), "¥500.00", True
    ),
    "transfer_traced": Flow(
        "transfer_not_arrived", 5, "我转账给朋友1200元，对方一直没收到", (), "¥1,200.00", True
    ),
    "password_reset": Flow("password_reset", 13, "忘记登录密码了，帮我重置", (), "重置", False),
    "refund_approved_en": Flow(
        "refund", 11, "my refund still hasn't arrived", (), "¥120.00", False, lang="en"
    ),
    "unlock_en": Flow(
        "account_locked", 1, "my account is locked, I can't log in", ("yes",), "unlocked", False,
        lang="en",
    ),
}  # fmt: skip


def _pick(labels: list[tuple[str, str]], answer: str) -> str:
    """The value to send for ``answer``: an option's value for ``pick:X``."""
    if not answer.startswith("pick:"):
        return answer
    wanted = answer[len("pick:") :]
    return next(value for label, value in labels if wanted in label)


def stored_intents(db: Session, conversation_id: int) -> list[object]:
    return [
        m.data.get("intent")
        for m in db.scalars(
            select(ChatMessage).where(
                ChatMessage.conversation_id == conversation_id, ChatMessage.sender == "bot"
            )
        )
    ]


def wallet_actions(db: Session) -> int:
    return len(db.scalars(select(AuditEvent.id).where(AuditEvent.actor_role == "assistant")).all())


@pytest.mark.parametrize("name", list(FLOWS))
def test_last_step_through_the_api_and_the_widget(chat: Chat, name: str) -> None:
    flow = FLOWS[name]
    chat.lang = flow.lang
    turn = chat.say(flow.opening)
    assert turn.intent == flow.intent, turn.reply
    steps = list(flow.answers)
    if flow.verify:
        if turn.input != "code":
            turn = chat.say(phone_of(flow.customer))
        steps.insert(0, last_code(chat.db, phone_of(flow.customer)))
    for answer in steps[:-1]:
        turn = chat.say(_pick([(q.label, q.value) for q in turn.quick_replies], answer))
        assert turn.intent == flow.intent, turn.reply
    final = _pick([(q.label, q.value) for q in turn.quick_replies], steps[-1])
    last = chat.say(final, client_msg_id=f"final-{name}")
    assert last.intent == flow.intent, last.reply
    assert flow.expect in last.reply
    assert (last.case_reference is not None) == flow.case, last.reply
    if last.case_reference is not None:
        assert last.case_reference in last.reply or flow.intent == "account_stolen"
    acted = wallet_actions(chat.db)
    again = chat.say(final, client_msg_id=f"final-{name}")
    assert (again.reply, again.intent, again.case_reference, again.quick_replies) == (
        last.reply,
        last.intent,
        last.case_reference,
        last.quick_replies,
    )
    assert wallet_actions(chat.db) == acted  # answered again, not done again
    assert chat.conversation is not None
    intents = stored_intents(chat.db, chat.conversation.id)
    assert all(isinstance(i, str) and i for i in intents), intents


@pytest.fixture
def wechat_demo(demo_db: Session, settings: Settings) -> Iterator[WeChat]:
    served = wechat_settings(settings)
    with client_for(demo_db, served) as http:
        yield WeChat(http, served)


def _numbered(reply: str) -> list[tuple[str, str]]:
    """WeChat's numbered options: (label, the number to type)."""
    return [(label, number) for number, label in re.findall(r"^(\d+)\. (.+)$", reply, re.M)]


@pytest.mark.parametrize("name", list(FLOWS))
def test_last_step_through_wechat(wechat_demo: WeChat, demo_db: Session, name: str) -> None:
    flow = FLOWS[name]
    openid = f"o-last-step-{name}"
    reply = wechat_demo.say(openid, flow.opening)
    steps = list(flow.answers)
    if flow.verify:
        if not re.search(r"验证码|code", reply):
            reply = wechat_demo.say(openid, phone_of(flow.customer))
        steps.insert(0, last_code(demo_db, phone_of(flow.customer)))
    for answer in steps[:-1]:
        reply = wechat_demo.say(openid, _pick(_numbered(reply), answer))
    final = _pick(_numbered(reply), steps[-1])
    msg_id = 7_000_000_000_000_000_000 + list(FLOWS).index(name)
    last = wechat_demo.say(openid, final, msg_id=msg_id)
    assert flow.expect in last, last
    acted = wallet_actions(demo_db)
    assert wechat_demo.say(openid, final, msg_id=msg_id) == last  # WeChat's retry
    assert wallet_actions(demo_db) == acted
    follower = demo_db.scalars(select(WeChatFollower).where(WeChatFollower.openid == openid)).one()
    assert follower.conversation_id is not None
    answers = demo_db.scalars(
        select(ChatMessage)
        .where(
            ChatMessage.conversation_id == follower.conversation_id,
            ChatMessage.sender == "bot",
        )
        .order_by(ChatMessage.seq.desc())
    ).first()
    assert answers is not None and answers.data["intent"] == flow.intent
    assert bool(answers.data.get("case_reference")) == flow.case
    assert all(isinstance(i, str) and i for i in stored_intents(demo_db, follower.conversation_id))
