"""Secrets customers type are masked on every channel before anything is stored."""

from __future__ import annotations

import logging

import pytest

from kefu.sensitive import (
    Redaction,
    SensitiveLogFilter,
    id_number_valid,
    luhn_valid,
    mask,
    redact,
)

CARD = "6222020200112233445"  # 19 digits, Luhn-valid
VISA = "4111111111111111"
ID_X = "11010519491231002X"
ID_DIGIT = "440524188001010014"


def test_fixtures_are_valid_numbers() -> None:
    assert luhn_valid(VISA) and luhn_valid(CARD13)
    assert not luhn_valid(VISA[:-1] + "2")
    assert id_number_valid(ID_X) and id_number_valid(ID_DIGIT)
    assert not id_number_valid(ID_X[:-1] + "1")


def _luhn_fix(prefix: str) -> int:
    for digit in range(10):
        if luhn_valid(prefix + str(digit)):
            return digit
    raise AssertionError


CARD19 = CARD[:-1] + str(_luhn_fix(CARD[:-1]))
CARD13 = "4222222222222"


@pytest.mark.parametrize(
    "written",
    [
        VISA,
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111 1111-1111 1111",
        "４１１１１１１１１１１１１１１１",
        CARD19,
        " ".join([CARD19[:6], CARD19[6:]]),
        CARD13,
    ],
)
def test_card_numbers_are_masked_to_their_last_four(written: str) -> None:
    text = f"我的卡号是{written}，麻烦查一下"
    result = redact(text)
    digits = "".join(c for c in written if c.isdigit())
    assert result.found == ("card",)
    assert result.text.startswith("我的卡号是") and result.text.endswith("，麻烦查一下")
    assert digits[:-4] not in "".join(c for c in result.text if c.isdigit())
    assert result.text.replace("*", "").count(written[-4:]) == 1


def test_luhn_invalid_numbers_and_identifiers_are_left_alone() -> None:
    not_luhn = VISA[:-1] + "2"
    for text in [
        f"订单 {not_luhn}",
        "交易号 T2026112300000001",
        "金额 12345.67 元",
        "电话 13800001111",
    ]:
        assert mask(text) == text


def test_phone_next_to_card_masks_only_the_card() -> None:
    assert mask(f"13800001111 {VISA}") == "13800001111 ************1111"


@pytest.mark.parametrize(
    "written", [ID_X, ID_X.lower(), ID_DIGIT, "110105 19491231 002X", "110105-19491231-002X"]
)
def test_id_numbers_are_masked(written: str) -> None:
    result = redact(f"身份证号 {written} 谢谢")
    assert result.found == ("id_number",)
    assert "19491231" not in result.text and "18800101" not in result.text
    assert result.text.endswith(f"{written[-4:]} 谢谢")


def test_id_with_wrong_check_character_is_not_an_id() -> None:
    assert "id_number" not in redact("110105194912310021").found


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("验证码是 482913", "验证码是 ******"),
        ("验证码：4829", "验证码：****"),
        ("482913是验证码", "******是验证码"),
        ("my code is 48291374", "my code is ********"),
        ("OTP 482913 please", "OTP ****** please"),
        ("动态码482913", "动态码******"),
        ("Your CODE: 4829", "Your CODE: ****"),
        ("验证码是 ４８２９１３", "验证码是 ******"),
    ],
)
def test_one_time_codes_are_masked(text: str, masked: str) -> None:
    assert mask(text) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("我的密码是Abc12345!", "我的密码是******"),
        ("密码：qwer1234", "密码：******"),
        ("支付密码 135790", "支付密码 ******"),
        ("新密码改成 P@ssw0rd 了", "新密码改成 ****** 了"),
        ("my password is hunter22", "my password is ******"),
        ("pwd=s3cret", "pwd=******"),
        # no digit at all: found by the word, not passed over as a text without numbers
        ("口令为abcdef", "口令为******"),
        ("PASSWORD: hunter", "PASSWORD: ******"),
        ("my passwd = letmein", "my passwd = ******"),
    ],
)
def test_passwords_are_masked(text: str, masked: str) -> None:
    assert mask(text) == masked


@pytest.mark.parametrize(
    "text", ["密码错误了怎么办", "I need a password reset", "忘记密码", "验证码收不到"]
)
def test_talk_about_passwords_is_not_masked(text: str) -> None:
    assert mask(text) == text


def test_several_secrets_in_one_message() -> None:
    text = f"卡号{VISA}，身份证{ID_X}，验证码123456，密码abc999"
    result = redact(text)
    assert set(result.found) == {"card", "id_number", "otp", "password"}
    for secret in (VISA[:12], ID_X[:14], "123456", "abc999"):
        assert secret not in result.text


def test_log_filter_masks_rendered_messages(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("kefu.test.sensitive")
    logger.addFilter(SensitiveLogFilter())
    with caplog.at_level(logging.INFO, logger="kefu.test.sensitive"):
        logger.info("customer wrote %s", f"card {VISA}")
    assert VISA not in caplog.text
    assert "************1111" in caplog.text


@pytest.mark.parametrize(
    "text", ["127.0.0.1:54321", "GET", "/healthz", "验证码 123", "code: 12-3", "１２３ 元"]
)
def test_texts_with_fewer_than_four_digits_and_no_password_word_are_kept(text: str) -> None:
    assert redact(text) == Redaction(text, ())


@pytest.mark.parametrize(
    "text", ["127.0.0.1:36230", "订单 T2026112300000001", "充值 12345 元", "1234 5678 9012"]
)
def test_digits_without_a_code_word_or_a_long_number_are_kept(text: str) -> None:
    assert redact(text) == Redaction(text, ())


def test_four_digits_anywhere_are_enough_to_be_scanned() -> None:
    assert mask("验证码：１２３４") == "验证码：****"
