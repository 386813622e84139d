"""Skeletons and imitations: look-alike letters, digits for letters, a name in another
site's address, one letter off; and unrelated names left alone."""

from __future__ import annotations

import pytest

from kefu.antifraud.lookalike import account_imitation, domain_imitation, skeleton

OFFICIAL = ["kefu-wallet.com.cn"]


def test_skeletons_join_confusable_characters() -> None:
    assert skeleton("wa11et") == skeleton("wallet") == skeleton("waIlet".lower())
    assert skeleton("g00gle") == skeleton("google")
    assert skeleton("rnodern") == skeleton("modern")
    assert skeleton("kеfu") == skeleton("kefu")  # Cyrillic е
    assert skeleton("kefu-wallet") == skeleton("kefuwallet")
    assert skeleton("客服钱包") == "客服钱包"


@pytest.mark.parametrize(
    ("host", "how"),
    [
        ("kefu-wallet.com.cn.example.net", "embedded"),
        ("login.kefu-wallet.com.cn.example.net", "embedded"),
        ("kefu-wa11et.com.cn", "homoglyph"),
        ("kеfu-wallet.com.cn", "homoglyph"),
        ("kefu-wallet.net", "same_name"),
        ("kefuwallet.com", "same_name"),
        ("kefu-wallet-refund.com", "contains_name"),
        ("my.kefuwallet-help.top", "contains_name"),
        ("kefu-walet.com.cn", "typo"),
        ("kefu-wallte.com", "typo"),
    ],
)
def test_domain_imitations(host: str, how: str) -> None:
    found = domain_imitation(host, OFFICIAL)
    assert found is not None and found.how == how
    assert found.of == "kefu-wallet.com.cn"


@pytest.mark.parametrize(
    "host", ["example.com", "wallet.example.net", "kefu.com", "wallet-kefu.com", "alipay.com"]
)
def test_unrelated_domains_are_no_imitation(host: str) -> None:
    assert domain_imitation(host, OFFICIAL) is None


def test_short_brands_only_match_exactly() -> None:
    assert domain_imitation("pay.com", ["pay.cn"]) is not None
    assert domain_imitation("paypal-help.com", ["pay.cn"]) is None
    assert domain_imitation("pey.com", ["pay.cn"]) is None


def test_account_imitations() -> None:
    ours = [("kefuwallet", "KefuWallet")]
    assert account_imitation("kefu_wallet", ours) is not None
    assert account_imitation("kefuwa11et_kf", ours) is not None
    assert account_imitation("zhangsan", ours) is None
