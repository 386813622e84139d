"""A table of values people really paste, each with the verdict it must get: official
values in every common spelling, look-alikes of our domain and accounts, confirmed scams,
and unrelated values. The registry is the demo's (src/kefu/antifraud/data)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from kefu.antifraud import service

OFFICIAL = "official"
NOT_OURS = "not_official"
SCAM = "reported_scam"

# (value, expected kind, expected verdict, imitation expected)
TABLE: list[tuple[str, str, str, bool]] = [
    # the 95 hotline, written every way
    ("95099", "phone", OFFICIAL, False),
    ("9 5 0 9 9", "phone", OFFICIAL, False),
    ("９５０９９", "phone", OFFICIAL, False),
    ("+86 95099", "phone", OFFICIAL, False),
    ("+8695099", "phone", OFFICIAL, False),
    ("0086 95099", "phone", OFFICIAL, False),
    ("tel:95099", "phone", OFFICIAL, False),
    (" 95099 ", "phone", OFFICIAL, False),
    ("“95099”", "phone", OFFICIAL, False),
    ("95099\u200b", "phone", OFFICIAL, False),
    # the 400 number
    ("400-800-9595", "phone", OFFICIAL, False),
    ("4008009595", "phone", OFFICIAL, False),
    ("400 800 9595", "phone", OFFICIAL, False),
    ("400.800.9595", "phone", OFFICIAL, False),
    ("(400) 800-9595", "phone", OFFICIAL, False),
    ("+86 400 800 9595", "phone", OFFICIAL, False),
    ("+86-400-800-9595", "phone", OFFICIAL, False),
    ("0086-400-800-9595", "phone", OFFICIAL, False),
    ("４００－８００－９５９５", "phone", OFFICIAL, False),
    ("400—800—9595", "phone", OFFICIAL, False),
    ("86 400 800 9595", "phone", OFFICIAL, False),
    # the 800 number
    ("800-820-9595", "phone", OFFICIAL, False),
    ("8008209595", "phone", OFFICIAL, False),
    ("+86 800 820 9595", "phone", OFFICIAL, False),
    # outbound caller ID and SMS sender
    ("021-6080 9595", "phone", OFFICIAL, False),
    ("02160809595", "phone", OFFICIAL, False),
    ("+86 21 6080 9595", "phone", OFFICIAL, False),
    ("(021) 60809595", "phone", OFFICIAL, False),
    ("10690959099", "phone", OFFICIAL, False),
    ("1069 0959 099", "phone", OFFICIAL, False),
    # our website
    ("kefu-wallet.com.cn", "domain", OFFICIAL, False),
    ("KEFU-WALLET.COM.CN", "domain", OFFICIAL, False),
    ("www.kefu-wallet.com.cn", "domain", OFFICIAL, False),
    ("https://www.kefu-wallet.com.cn/", "domain", OFFICIAL, False),
    ("http://kefu-wallet.com.cn/login?next=/pay", "domain", OFFICIAL, False),
    ("https://help.kefu-wallet.com.cn/faq/refund", "domain", OFFICIAL, False),
    ("https://kefu-wallet.com.cn:443/x#y", "domain", OFFICIAL, False),
    ("kefu-wallet.com.cn.", "domain", OFFICIAL, False),
    ("ｋｅｆｕ－ｗａｌｌｅｔ．ｃｏｍ．ｃｎ", "domain", OFFICIAL, False),
    ("HTTPS://Pay.Kefu-Wallet.com.cn/Checkout", "domain", OFFICIAL, False),
    ("https://user:pw@kefu-wallet.com.cn/", "domain", OFFICIAL, False),
    # e-mail
    ("support@kefu-wallet.com.cn", "email", OFFICIAL, False),
    ("Support@Kefu-Wallet.com.cn", "email", OFFICIAL, False),
    ("mailto:support@kefu-wallet.com.cn", "email", OFFICIAL, False),
    ("mailto:support@kefu-wallet.com.cn?subject=hi", "email", OFFICIAL, False),
    ("notice@kefu-wallet.com.cn", "email", OFFICIAL, False),
    ("security@mail.kefu-wallet.com.cn", "email", OFFICIAL, False),
    # social accounts and apps
    ("KefuWallet", "wechat", OFFICIAL, False),
    ("kefuwallet", "wechat", OFFICIAL, False),
    ("@KefuWallet", "wechat", OFFICIAL, False),
    ("ＫｅｆｕＷａｌｌｅｔ", "wechat", OFFICIAL, False),
    ("Kefu钱包客服", "weibo", OFFICIAL, False),
    ("@Kefu钱包客服", "weibo", OFFICIAL, False),
    ("https://apps.apple.com/cn/app/id6400000000", "app", OFFICIAL, False),
    ("https://apps.apple.com/cn/app/kefu-wallet/id6400000000?l=en", "app", OFFICIAL, False),
    ("com.kefuwallet.app", "app", OFFICIAL, False),
    ("https://play.google.com/store/apps/details?id=com.kefuwallet.app", "app", OFFICIAL, False),
    # look-alikes of our domain: never "unknown"
    ("kefu-wallet.com.cn.example.net", "domain", NOT_OURS, True),
    ("https://kefu-wallet.com.cn.example.net/login", "domain", NOT_OURS, True),
    ("www.kefu-wallet.com.cn.secure-login.top", "domain", NOT_OURS, True),
    ("kefu-wallet.com.cn-refund.cc", "domain", NOT_OURS, True),
    ("http://kefu-wallet.com.cn@evil.example.org/", "domain", NOT_OURS, True),
    ("kefu-wa11et.com.cn", "domain", NOT_OURS, True),
    ("kefu-wal1et.com.cn", "domain", NOT_OURS, True),
    ("kеfu-wallet.com.cn", "domain", NOT_OURS, True),  # Cyrillic е
    ("xn--kfu-wallet-ksi.com.cn", "domain", NOT_OURS, True),  # the same, in punycode
    ("kefu-wаllet.com.cn", "domain", NOT_OURS, True),  # Cyrillic а
    ("kefu-wallet.com", "domain", NOT_OURS, True),
    ("kefu-wallet.net", "domain", NOT_OURS, True),
    ("kefuwallet.com.cn", "domain", NOT_OURS, True),
    ("kefu-wallet.cn", "domain", NOT_OURS, True),
    ("kefu-walet.com.cn", "domain", NOT_OURS, True),
    ("kefu-wallett.com.cn", "domain", NOT_OURS, True),
    ("kefu-wallte.com.cn", "domain", NOT_OURS, True),
    ("kefuwallet-service.com", "domain", NOT_OURS, True),
    ("secure-kefu-wallet.com", "domain", NOT_OURS, True),
    ("kefu-wallet-help.cn", "domain", NOT_OURS, True),
    ("kefu-wallet.refund-center.net", "domain", NOT_OURS, True),
    ("kefu-wa1iet.top", "domain", NOT_OURS, True),
    ("support@kefu-wallet-service.com", "email", NOT_OURS, True),
    ("support@kefu-wa11et.com.cn", "email", NOT_OURS, True),
    ("service@kefu-wallet.com.cn.mail-notice.net", "email", NOT_OURS, True),
    ("kefu_wallet", "account", NOT_OURS, True),
    ("KefuWallet_Official", "account", NOT_OURS, True),
    ("kefuwa11et", "account", NOT_OURS, True),
    ("kefu-walet", "account", NOT_OURS, True),
    # confirmed scams
    ("170 1234 5678", "phone", SCAM, False),
    ("17012345678", "phone", SCAM, False),
    ("+86 170-1234-5678", "phone", SCAM, False),
    ("400-800-9596", "phone", SCAM, False),
    ("4008009596", "phone", SCAM, False),
    ("kefu-wallet-refund.com", "domain", SCAM, False),
    ("https://www.kefu-wallet-refund.com/claim?id=1", "domain", SCAM, False),
    ("pay.kefu-wallet-refund.com", "domain", SCAM, False),
    ("kefu_kf888", "account", SCAM, False),
    ("@KEFU_KF888", "account", SCAM, False),
    # unrelated values: not ours, and not called imitations
    ("13800138000", "phone", NOT_OURS, False),
    ("+86 138 0013 8000", "phone", NOT_OURS, False),
    ("95588", "phone", NOT_OURS, False),
    ("400-123-4567", "phone", NOT_OURS, False),
    ("010-8888 6666", "phone", NOT_OURS, False),
    ("+1 650 253 0000", "phone", NOT_OURS, False),
    ("+44 20 7946 0958", "phone", NOT_OURS, False),
    ("example.com", "domain", NOT_OURS, False),
    ("https://www.example.org/path", "domain", NOT_OURS, False),
    ("baidu.com", "domain", NOT_OURS, False),
    ("wallet.example.net", "domain", NOT_OURS, False),
    ("kefu.example.com", "domain", NOT_OURS, False),
    ("192.168.1.10", "domain", NOT_OURS, False),
    ("http://8.8.8.8/login", "domain", NOT_OURS, False),
    ("someone@example.com", "email", NOT_OURS, False),
    ("zhangsan@qq.com", "email", NOT_OURS, False),
    ("zhangsan", "account", NOT_OURS, False),
    ("李四的小店", "account", NOT_OURS, False),
    ("com.example.game", "app", NOT_OURS, False),
    ("https://apps.apple.com/cn/app/id1111111111", "app", NOT_OURS, False),
]


def test_the_table_is_big_enough() -> None:
    assert len(TABLE) >= 100
    assert len({value for value, *_ in TABLE}) == len(TABLE)


@pytest.mark.parametrize(("value", "kind", "verdict", "imitation"), TABLE)
def test_verdict(seeded: Session, value: str, kind: str, verdict: str, imitation: bool) -> None:
    result = service.verify(seeded, value, lang="en")
    assert (result.kind, result.verdict) == (kind, verdict), result
    assert (result.imitation_of is not None) == imitation, result
    if imitation:
        assert "imitation" in result.reason
    assert result.reason and result.advice


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("95099", "官方客服热线"),
        ("kefu-wallet.com.cn.example.net", "仿冒"),
        ("17012345678", "诈骗"),
        ("13800138000", "手机号码"),
    ],
)
def test_answers_follow_the_language(seeded: Session, value: str, words: str) -> None:
    result = service.verify(seeded, value, lang="zh-CN")
    assert words in result.reason + result.advice
