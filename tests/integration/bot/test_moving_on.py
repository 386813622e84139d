"""The assistant moves forward: a customer who disputes an answer, says it again or loses
patience gets a traced case or a person, never the same answer twice; a customer who names
an amount or a day that fits no item hears so, sees what there is and picks."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu import audit
from kefu.wallet import flows as wallet_flows
from kefu.wallet.idempotency import ActionContext
from kefu.wallet.models import BankCard

from .conftest import Chat
from .test_flows import customer


def fresh_pending_top_up(db: Session, index: int, fen: int) -> None:
    """A top-up of customer ``index`` the bank has had for a moment only."""
    account = customer(db, index).wallet_account_id
    card = db.scalars(select(BankCard).where(BankCard.account_id == account)).first()
    assert card is not None
    wallet_flows.start_top_up(
        db,
        account_id=account,
        card_id=card.id,
        amount_fen=fen,
        currency="CNY",
        ctx=ActionContext(key=f"test-fresh-topup-{index}", actor=audit.Actor("test", "system")),
    )
    db.commit()


PUSHBACK = {
    "zh-CN": (
        "我充值了500元还没到账",
        [
            "可是我已经等了两个小时了，银行卡已经扣钱了",
            "银行那边早就扣款了，你们到底什么时候给我到账",
            "还是没到啊，怎么还在处理",
        ],
    ),
    "en": (
        "I topped up 500 yuan and it hasn't arrived",
        [
            "but I've already waited two hours and my bank card was charged",
            "the bank took the money ages ago, this is ridiculous",
            "still nothing, why is it still processing?",
        ],
    ),
}


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("pushback", [0, 1, 2])
def test_pushback_after_please_wait_traces_the_top_up(chat: Chat, lang: str, pushback: int) -> None:
    fresh_pending_top_up(chat.db, 15, 500_00)
    opening, replies = PUSHBACK[lang]
    chat.lang = lang
    chat.say(opening)
    waited = chat.verify(15)
    assert "¥500.00" in waited.reply and waited.case_reference is None  # "please wait"
    traced = chat.say(replies[pushback])
    assert traced.case_reference is not None, traced.reply
    assert traced.case_reference in traced.reply
    assert traced.reply != waited.reply
    assert any(q.value == "human_agent" for q in traced.quick_replies)
    # pushed back again: a person is offered, then takes over; never the same words twice
    offered = chat.say(replies[(pushback + 1) % 3])
    assert offered.reply != traced.reply
    assert any(q.value == "human_agent" for q in offered.quick_replies) or offered.handoff
    last = chat.say(replies[(pushback + 2) % 3])
    assert last.reply != offered.reply
    assert last.handoff


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("zh-CN", "充值没到账"),
        ("zh-CN", "我的钱呢"),
        ("en", "my top up hasn't arrived"),
        ("en", "where is my money"),
    ],
)
def test_never_the_same_answer_twice_in_a_row(chat: Chat, lang: str, text: str) -> None:
    chat.lang = lang
    previous = None
    for _ in range(5):
        turn = chat.say(text)
        assert turn.reply != previous, turn.reply
        previous = turn.reply
        if turn.handoff:
            break
    assert turn.handoff  # saying it again and again ends with a person


@pytest.mark.parametrize(
    ("lang", "opening", "asked"),
    [
        ("en", "the 300 I topped up last night hasn't arrived", "¥300.00"),
        ("zh-CN", "我昨晚充的300还没到账", "¥300.00"),
        ("zh-CN", "我充值了1000元怎么还没到", "¥1,000.00"),
        ("en", "I put 250 yuan into my wallet and it's not showing", "¥250.00"),
    ],
)
def test_an_amount_that_fits_no_top_up_is_said_and_the_found_ones_shown(
    chat: Chat, lang: str, opening: str, asked: str
) -> None:
    chat.lang = lang
    turn = chat.say(opening)
    assert turn.intent == "recharge_not_credited", turn.reply
    turn = chat.verify(2)  # 李娜: her only top-up stuck is ¥500.00
    assert asked in turn.reply, turn.reply  # what was asked for, not found
    assert turn.input == "choice"
    assert turn.case_reference is None  # nothing traced on a guess
    pick = next(q for q in turn.quick_replies if "¥500.00" in q.label)
    assert any(q.value == "human_agent" for q in turn.quick_replies)
    turn = chat.say(pick.value)
    assert "¥500.00" in turn.reply
    assert turn.case_reference is not None  # that one is stuck: traced


def test_an_amount_that_fits_is_taken_without_asking(chat: Chat) -> None:
    chat.say("我充值了500元还没到账")
    turn = chat.verify(2)
    assert turn.input != "choice"
    assert "¥500.00" in turn.reply and turn.case_reference is not None


@pytest.mark.parametrize(
    ("lang", "opening"),
    [
        ("zh-CN", "我转给朋友的800块到现在还没到"),
        ("en", "the 800 I transferred to my friend hasn't arrived"),
    ],
)
def test_a_transfer_amount_that_fits_nothing_is_said_and_the_found_ones_shown(
    chat: Chat, lang: str, opening: str
) -> None:
    chat.lang = lang
    turn = chat.say(opening)
    assert turn.intent == "transfer_not_arrived", turn.reply
    turn = chat.verify(5)  # 陈静: her transfer still processing is ¥1,200.00
    assert "¥800.00" in turn.reply and turn.input == "choice", turn.reply
    assert turn.case_reference is None
    pick = next(q for q in turn.quick_replies if "¥1,200.00" in q.label)
    turn = chat.say(pick.value)
    assert "¥1,200.00" in turn.reply and turn.case_reference is not None
