"""Conversations as people have them, through the HTTP API and the widget: a language not
named, a number that is not ours, codes asked for too often, the queue, the reset message,
the order of advice after a freeze."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from kefu.antifraud import service as antifraud
from kefu.cases.models import Case, CaseEvent
from kefu.channels.models import OutboxMessage
from kefu.chat import live
from kefu.chat.routing_models import AgentProfile, WorkItem

from .conftest import Chat, last_code, phone_of

HAN = re.compile(r"[\u4e00-\u9fff]")


def chinese_words(chat: Chat, reply: str) -> bool:
    """Han characters in ``reply`` outside the registry's own values (a Weibo name)."""
    for channel in antifraud.contact_channels(chat.db):
        reply = reply.replace(channel.value, "")
    return bool(HAN.search(reply))


@pytest.mark.parametrize(
    "text",
    [
        "my account is locked and I can't log in",
        "hi, my top up hasn't arrived yet",
        "Is 4008-123-456 your customer service number?",
    ],
)
def test_english_without_a_language_hint_is_answered_in_english(chat: Chat, text: str) -> None:
    chat.lang = None
    turn = chat.say(text)
    assert not chinese_words(chat, turn.reply), turn.reply


def test_each_message_is_answered_in_its_own_language(chat: Chat) -> None:
    chat.lang = None
    turn = chat.say("my refund has not arrived")
    assert not HAN.search(turn.reply)
    turn = chat.say("算了，我还是说中文吧，我的账户被锁住了登不上去")
    assert HAN.search(turn.reply)
    turn = chat.say("ok")  # a word says nothing about the language: still Chinese
    assert HAN.search(turn.reply)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("4008-123-456 是你们客服吗", "zh-CN"),
        ("刚才 0755-8888 1234 打电话说是你们的客服，真的吗", "zh-CN"),
        ("is 4008-123-456 really your hotline?", "en"),
        ("someone called me from 021-5555 0101 saying they are Kefu support, is that you?", "en"),
    ],
)
def test_a_number_not_ours_is_answered_with_the_official_ones(
    chat: Chat, text: str, lang: str
) -> None:
    chat.lang = None
    turn = chat.say(text)
    assert turn.intent == "verify_official", turn.reply
    hotlines = [
        c for c in antifraud.contact_channels(chat.db) if c.kind == "phone" and c.role == "hotline"
    ]
    assert hotlines
    for hotline in hotlines:
        assert hotline.value in turn.reply, turn.reply
        assert hotline.label(lang) in turn.reply  # in the asker's language
    assert chinese_words(chat, turn.reply) == (lang == "zh-CN")


def test_an_official_number_is_not_followed_by_a_list(chat: Chat) -> None:
    hotline = next(c for c in antifraud.contact_channels(chat.db) if c.kind == "phone")
    turn = chat.say(f"{hotline.value} 是你们的官方电话吗")
    official = antifraud.verify(chat.db, hotline.value, lang="zh-CN")
    assert official.reason in turn.reply
    assert "请认准" not in turn.reply


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_codes_asked_too_often_keep_the_step_and_say_when(chat: Chat, lang: str) -> None:
    chat.lang = lang
    chat.say("我的账户被锁定了，登录不了" if lang == "zh-CN" else "my account is locked")
    first = chat.say(phone_of(1))
    assert first.input == "code"
    other = chat.other()  # a second conversation asks for a code for the same phone at once
    other.say("我的账户被锁定了，登录不了" if lang == "zh-CN" else "my account is locked")
    turn = other.say(phone_of(1))
    assert turn.input == "text"
    wait = "分钟" if lang == "zh-CN" else "min"
    assert wait in turn.reply and re.search(r"\d{2}:\d{2}", turn.reply), turn.reply
    turn = other.say(phone_of(1))  # sent again too early: still the identity step, not "I can't"
    assert turn.intent == "account_locked", turn.reply
    assert wait in turn.reply
    assert not turn.handoff


def test_the_first_in_line_is_told_they_are_first(chat: Chat) -> None:
    turn = chat.say("转人工")
    assert turn.handoff
    assert "排在第 1 位" in turn.reply and "前面还有" not in turn.reply


def test_the_assistant_tells_the_same_wait_as_the_widget(chat: Chat) -> None:
    """The hand-over's 预计等待约 N 分钟 and the widget's banner come from one estimate and
    one rounding: 430 s of handling was "about 7 minutes" from the assistant (rounded) and
    8 in the banner (rounded up), for the same customer at the same moment."""
    db, now = chat.db, chat.clock()
    db.execute(delete(WorkItem).where(WorkItem.status == "finished"))
    db.execute(update(AgentProfile).values(presence="offline"))
    db.add(
        WorkItem(
            kind="chat",
            tier="tier1",
            language="zh-CN",
            category="other",
            status="finished",
            urgent=False,
            enqueued_at=now - timedelta(hours=1),
            assigned_at=now - timedelta(minutes=30),
            finished_at=now - timedelta(minutes=30) + timedelta(seconds=430),
        )
    )
    db.flush()
    turn = chat.say("转人工")
    assert turn.handoff
    assert chat.conversation is not None
    told = live.wait_info(db, chat.conversation, now=chat.clock()).minutes
    assert told == 8
    assert f"预计等待约 {told} 分钟" in turn.reply, turn.reply


def test_the_english_queue_text_says_the_place(chat: Chat) -> None:
    chat.lang = "en"
    turn = chat.say("I want to talk to a person")
    assert turn.handoff
    assert "number 1 in the queue" in turn.reply


@pytest.mark.parametrize(
    ("opening", "lang"), [("忘记登录密码了，帮我重置一下", "zh-CN"), ("I forgot my password", "en")]
)
def test_the_reset_message_reaches_the_registered_phone(
    chat: Chat, opening: str, lang: str
) -> None:
    chat.lang = lang
    chat.say(opening)
    turn = chat.verify(13)
    assert phone_of(13)[-4:] in turn.reply, turn.reply
    sent = chat.db.scalars(
        select(OutboxMessage).where(
            OutboxMessage.destination == "+86" + phone_of(13),
            OutboxMessage.purpose == "password_reset",
        )
    ).all()
    assert len(sent) == 1
    hotline = next(c for c in antifraud.contact_channels(chat.db) if c.kind == "phone")
    assert hotline.value in sent[0].body
    assert bool(HAN.search(sent[0].body)) == (lang == "zh-CN")


@pytest.mark.parametrize(
    ("lang", "opening", "not_me", "unfreeze", "password"),
    [
        ("zh-CN", "收到异常登录提醒，说我在别的地方登录了", "不是我", "解冻", "修改登录密码"),
        ("en", "I got an alert about a login I don't recognise", "not me", "unfreeze", "password"),
    ],
)
def test_after_a_freeze_how_to_unfreeze_comes_before_the_password(
    chat: Chat, lang: str, opening: str, not_me: str, unfreeze: str, password: str
) -> None:
    chat.lang = lang
    chat.say(opening)
    chat.verify(9)
    turn = chat.say(not_me)
    assert turn.case_reference is not None
    assert unfreeze in turn.reply and password in turn.reply, turn.reply
    assert turn.reply.index(unfreeze) < turn.reply.index(password)


def test_after_a_stolen_account_freeze_how_to_unfreeze_comes_first(chat: Chat) -> None:
    chat.say("我的账号被盗了，快帮我冻结")
    turn = chat.say(phone_of(12))
    assert turn.reply.index("解冻") < turn.reply.index("修改登录密码"), turn.reply


@pytest.mark.parametrize(
    ("lang", "text", "second"),
    [
        ("zh-CN", "密码忘了，另外上周的退款也还没到", "退款"),
        ("zh-CN", "我的账户被锁了登不上去，还有之前申请的退款也一直没到", "退款"),
        ("en", "I forgot my password, also my refund from last week hasn't arrived", "refund"),
        ("en", "my account is locked; plus my refund never came", "refund"),
    ],
)
def test_two_problems_in_one_message_are_taken_one_after_the_other(
    chat: Chat, lang: str, text: str, second: str
) -> None:
    chat.lang = lang
    turn = chat.say(text)
    assert turn.intent in ("password_reset", "account_locked", "login_failed"), turn.reply
    assert second in turn.reply.lower()  # both heard, the order said
    turn = chat.verify(11 if lang == "en" else 7)
    if turn.intent != "refund":  # the first one ended on a question (a reset too?): no
        turn = chat.say("不用了" if lang == "zh-CN" else "no thanks")
    # the first one answered, then the refund taken up unasked, on the same verification
    assert turn.intent == "refund", turn.reply
    assert ("¥120.00" if lang == "en" else "¥259.00") in turn.reply
    assert turn.input != "code"


@pytest.mark.parametrize(
    ("lang", "correction"),
    [
        ("zh-CN", "不对，我的手机号是{phone}"),
        ("zh-CN", "{phone}"),
        ("en", "sorry, wrong number, it's {phone}"),
        ("en", "{phone}"),
    ],
)
def test_a_number_at_the_code_step_starts_the_check_again(
    chat: Chat, lang: str, correction: str
) -> None:
    chat.lang = lang
    chat.say("我的退款被拒绝了" if lang == "zh-CN" else "my refund was rejected")
    first = chat.say(phone_of(3))  # the wrong customer's number
    assert first.input == "code"
    turn = chat.say(correction.format(phone=phone_of(7)))
    assert turn.input == "code", turn.reply
    assert not turn.handoff
    assert phone_of(7)[-4:] in turn.reply  # the code went to the corrected number
    turn = chat.say(last_code(chat.db, phone_of(7)))
    assert "¥259.00" in turn.reply


@pytest.mark.parametrize(
    ("lang", "text", "customer", "status"),
    [
        ("zh-CN", "提现三天了还不到，太离谱了，我要投诉", 6, "注销"),
        ("zh-CN", "转账给朋友的钱到现在都没到，什么破服务，我要投诉你们", 5, "¥1,200.00"),
        (
            "en",
            "withdrawal still not arrived after 3 days, ridiculous, I want to complain",
            6,
            "closed",
        ),
    ],
)
def test_an_angry_complaint_gets_the_problem_answered_and_recorded(
    chat: Chat, lang: str, text: str, customer: int, status: str
) -> None:
    chat.lang = lang
    turn = chat.say(text)
    assert turn.intent == "transfer_not_arrived", turn.reply
    turn = chat.verify(customer)
    assert status in turn.reply, turn.reply  # the item's real status
    assert turn.case_reference is not None and turn.case_reference in turn.reply
    case = chat.db.scalar(select(Case).where(Case.reference == turn.case_reference))
    assert case is not None
    notes = chat.db.scalars(select(CaseEvent.body).where(CaseEvent.case_id == case.id)).all()
    assert case.category == "complaint" or any(text in (n or "") for n in notes)
