"""Kind detection and normal forms: every spelling of a value meets the same key, and what
is no value at all is refused with a reason, never a crash."""

from __future__ import annotations

import pytest

from kefu.antifraud import values
from kefu.antifraud.errors import (
    BadEmail,
    BadWebAddress,
    EmptyValue,
    UnrecognisedValue,
    ValueTooLong,
    WrongKind,
)
from kefu.errors import InvalidInput


@pytest.mark.parametrize(
    "raw",
    [
        "400-800-9595",
        "+86 400 800 9595",
        "４００８００９５９５",
        "0086 4008009595",
        "(400)800-9595",
    ],
)
def test_phone_spellings_meet(raw: str) -> None:
    parsed = values.parse(raw)
    assert parsed.kind == "phone"
    assert parsed.normalised == "+864008009595"
    assert parsed.display == "400 800 9595"


def test_short_service_numbers_keep_their_digits() -> None:
    assert values.parse("95099").display == "95099"
    assert values.parse("+86 95099").normalised == values.parse("95099").normalised


def test_host_candidates_run_up_to_the_registrable_domain() -> None:
    parsed = values.parse("https://a.b.kefu-wallet.com.cn/x")
    assert parsed.candidates == (
        "a.b.kefu-wallet.com.cn",
        "b.kefu-wallet.com.cn",
        "kefu-wallet.com.cn",
    )


def test_punycode_and_unicode_hosts_meet() -> None:
    unicode_form = values.parse("kеfu-wallet.com.cn")  # Cyrillic е
    puny = values.parse("xn--kfu-wallet-ksi.com.cn")
    assert unicode_form.normalised == puny.normalised == "xn--kfu-wallet-ksi.com.cn"
    assert puny.display == "kеfu-wallet.com.cn"


def test_userinfo_is_a_decoy_not_the_host() -> None:
    parsed = values.parse("https://kefu-wallet.com.cn@evil.example.org/login")
    assert parsed.normalised == "evil.example.org"
    assert parsed.decoy == "kefu-wallet.com.cn"


def test_email_candidates_include_the_domain_and_its_parents() -> None:
    parsed = values.parse("Someone@Mail.Kefu-Wallet.com.cn")
    assert parsed.kind == "email"
    assert parsed.candidates == (
        "someone@mail.kefu-wallet.com.cn",
        "@mail.kefu-wallet.com.cn",
        "@kefu-wallet.com.cn",
    )


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("https://apps.apple.com/cn/app/kefu/id6400000000", "apple:id6400000000"),
        (
            "https://play.google.com/store/apps/details?id=com.kefuwallet.app",
            "android:com.kefuwallet.app",
        ),
        ("com.kefuwallet.app", "android:com.kefuwallet.app"),
    ],
)
def test_app_listings(raw: str, key: str) -> None:
    parsed = values.parse(raw)
    assert (parsed.kind, parsed.normalised) == ("app", key)


def test_accounts_ignore_case_width_and_at() -> None:
    assert values.parse("@ＫｅｆｕＷａｌｌｅｔ").normalised == values.parse("kefuwallet").normalised


def test_ip_addresses_are_web_addresses() -> None:
    parsed = values.parse("192.168.0.1")
    assert parsed.kind == "domain" and parsed.is_ip


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("", EmptyValue),
        ("   \u200b ", EmptyValue),
        (None, EmptyValue),
        ("1" * 5000, ValueTooLong),
        ("<script>alert(1)</script>", UnrecognisedValue),
        ("hello world", UnrecognisedValue),
        ("12", UnrecognisedValue),
        ("'; DROP TABLE antifraud_entry; --", UnrecognisedValue),
        ("http://", BadWebAddress),
        ("http://-bad-.com", BadWebAddress),
        ("http://a..b.com", BadWebAddress),
        ("https://" + "a" * 70 + ".com", BadWebAddress),
        ("a@b", BadEmail),
        ("a b@example.com", BadEmail),
        ("x@[1.2.3.4]", BadEmail),
    ],
)
def test_bad_values_are_refused_with_a_reason(raw: str | None, error: type[InvalidInput]) -> None:
    with pytest.raises(error):
        values.parse(raw)


def test_registry_values_must_match_their_kind() -> None:
    assert values.normalise_for("email", "@Kefu-Wallet.com.cn").normalised == "@kefu-wallet.com.cn"
    assert values.normalise_for("wechat", "@KefuWallet").normalised == "kefuwallet"
    with pytest.raises(WrongKind):
        values.normalise_for("phone", "kefu-wallet.com.cn")
    with pytest.raises(WrongKind):
        values.normalise_for("app", "kefu-wallet.com.cn")
