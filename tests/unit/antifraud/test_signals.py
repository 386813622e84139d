"""Scam signals in what customers write, Chinese and English; and the ordinary questions
that mention codes, passwords, refunds or WeChat and must not be flagged."""

from __future__ import annotations

import pytest

from kefu.antifraud.signals import SIGNAL_KINDS, ScamSignal, detect, links, warning_text

SCAMS: list[tuple[str, str]] = [
    # asked_for_code
    ("客服让我把验证码告诉他", "asked_for_code"),
    ("有个自称客服的人问我要短信验证码", "asked_for_code"),
    ("我把验证码发给了对方，现在钱没了", "asked_for_code"),
    ("对方索要我的支付密码", "asked_for_code"),
    ("他叫我念一下收到的动态码", "asked_for_code"),
    ("刚才有人打电话要我提供登录密码", "asked_for_code"),
    ("someone asked for my verification code", "asked_for_code"),
    ("The caller wanted my OTP to cancel the charge", "asked_for_code"),
    ("I gave him the code from the text", "asked_for_code"),
    ("he told me to read out the SMS code", "asked_for_code"),
    ("customer service requested my password to verify me", "asked_for_code"),
    # safe_account_transfer
    ("他说要把钱转到安全账户", "safe_account_transfer"),
    ("警察让我把钱转到国家安全账户", "safe_account_transfer"),
    ("对方说要做资金核查，让我转账", "safe_account_transfer"),
    ("they told me to move my money to a safe account", "safe_account_transfer"),
    ("I was asked to transfer everything to a secure account", "safe_account_transfer"),
    (
        "he said the safe account would protect my money, so I should transfer it",
        "safe_account_transfer",
    ),
    # remote_control
    ("对方让我下载向日葵远程", "remote_control"),
    ("他让我开启屏幕共享", "remote_control"),
    ("客服让我下载腾讯会议共享屏幕", "remote_control"),
    ("the agent asked me to share my screen", "remote_control"),
    ("he made me install AnyDesk", "remote_control"),
    ("they wanted remote access to my phone", "remote_control"),
    ("I started screen sharing on zoom with them", "remote_control"),
    # fee_for_refund
    ("退款需要先交手续费", "fee_for_refund"),
    ("理赔要先交保证金才能到账", "fee_for_refund"),
    ("对方说先付解冻费才能解冻账户", "fee_for_refund"),
    ("要先刷流水才能提现", "fee_for_refund"),
    ("to get the refund I must pay a fee first", "fee_for_refund"),
    ("I need to pay a processing fee to receive my compensation", "fee_for_refund"),
    ("they said the refund requires a deposit", "fee_for_refund"),
    # private_messenger_contact
    ("客服让我加他微信", "private_messenger_contact"),
    ("有个客服加了我QQ", "private_messenger_contact"),
    ("自称客服的人拉我进微信群", "private_messenger_contact"),
    ("在QQ上有人冒充客服", "private_messenger_contact"),
    ("a support agent added me on WhatsApp", "private_messenger_contact"),
    ("customer service told me to add them on telegram", "private_messenger_contact"),
    ("someone messaged me on WeChat saying he is your agent", "private_messenger_contact"),
]

ORDINARY = [
    "我想修改密码",
    "how do I reset my password",
    "我没收到验证码",
    "验证码收不到怎么办",
    "验证码过期了",
    "密码忘了怎么办",
    "我想设置支付密码",
    "I forgot my password",
    "I want to change my password",
    "I asked for a new code but never got it",
    "please send me the code again",
    "the code expired",
    "退款多久到账",
    "我要退款",
    "手续费是多少",
    "转账有手续费吗",
    "I paid a fee and want a refund",
    "is there a fee for transfers?",
    "账户安全吗",
    "怎样保护账户安全",
    "how do I keep my account safe",
    "is my account safe?",
    "转账到银行卡要多久",
    "充值没到账",
    "我想冻结账户",
    "怎么加你们的官方微信公众号",
    "你们有微信客服吗",
    "how do I contact you on WeChat",
    "my screen is black when I open the app",
    "I want to share feedback",
    "你们的客服电话是多少",
    "请问怎么绑定银行卡",
    "App 闪退了",
    "",
]


@pytest.mark.parametrize(("text", "kind"), SCAMS)
def test_scams_are_found(text: str, kind: str) -> None:
    found = detect(text)
    assert kind in {signal.kind for signal in found}, (text, found)


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_questions_are_not_flagged(text: str) -> None:
    assert detect(text) == []


def test_every_pattern_kind_is_tested() -> None:
    tested = {kind for _, kind in SCAMS}
    assert tested == set(SIGNAL_KINDS) - {"unofficial_link", "reported_scam_contact"}


def test_spans_point_into_the_text_as_given() -> None:
    text = "您好。客服让我把验证码告诉他，怎么办？"
    (signal,) = detect(text)
    assert text[signal.start : signal.end] == signal.matched
    assert "验证码" in signal.matched


def test_full_width_text_is_read() -> None:
    assert detect("ｓｏｍｅｏｎｅ ａｓｋｅｄ ｆｏｒ ｍｙ ｃｏｄｅ")


def test_several_kinds_in_one_message() -> None:
    kinds = {s.kind for s in detect("他让我共享屏幕，还要我把验证码发给他，再转到安全账户")}
    assert kinds == {"remote_control", "asked_for_code", "safe_account_transfer"}


def test_huge_and_odd_text_does_not_break() -> None:
    assert detect("啊" * 100_000) == []
    assert detect("\x00\ufeff" * 1000 + "<script>") == []


def test_links_in_running_text() -> None:
    text = (
        "请打开 http://kefu-wallet.com.cn.example.net/login 或kefu-wa11et.com.cn，"
        "邮件support@kefu-wallet.com.cn"
    )
    found = [m.text for m in links(text)]
    assert found == ["http://kefu-wallet.com.cn.example.net/login", "kefu-wa11et.com.cn"]


@pytest.mark.parametrize(("lang", "words"), [("zh-CN", "验证码"), ("en", "code")])
def test_warning_says_what_we_never_do(lang: str, words: str) -> None:
    text = warning_text([ScamSignal("asked_for_code", 0, 3, "验证码")], lang)  # type: ignore[arg-type]
    assert words in text
    assert "冻结" in text if lang == "zh-CN" else "freeze" in text


def test_no_signal_no_warning() -> None:
    assert warning_text([], "en") == ""
