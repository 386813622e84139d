"""Real .eml fixtures through the MIME parser: Chinese charsets, encodings, attachments."""

from __future__ import annotations

from pathlib import Path

import pytest

from kefu.channels.email.parse import MailUnreadable, decode_words, parse_mail, strip_quoted

EML = Path(__file__).parents[2] / "fixtures" / "eml"


def load(name: str) -> bytes:
    return (EML / name).read_bytes()


def test_gb2312_subject_and_base64_body_with_a_gbk_only_character() -> None:
    mail = parse_mail(load("gb2312_base64.eml"))
    assert mail.subject == "充值不到账，钱被扣了"
    assert mail.from_name == "王先生"
    assert mail.from_address == "wang.stranger@example.cn"
    # 喆 is not in GB2312: the body only decodes because GB2312 is read as GB18030
    assert "联系人：王喆" in mail.text
    assert mail.message_id == "<gb2312-0001@example.cn>"


def test_gbk_quoted_printable() -> None:
    mail = parse_mail(load("gbk_quoted_printable.eml"))
    assert mail.subject == "转账未到账"
    assert mail.text == "转账500元给朋友，对方说没有收到。请帮忙查一下。"


def test_utf8_quoted_printable_keeps_the_text_for_masking_later() -> None:
    mail = parse_mail(load("utf8_quoted_printable.eml"))
    assert mail.subject == "支付失败 payment failed"
    assert "6222 0202 0011 2233 446" in mail.text


def test_html_only_mail_becomes_text_without_markup_or_styles() -> None:
    mail = parse_mail(load("html_only.eml"))
    assert "I cannot log in to my wallet since yesterday." in mail.text
    assert "<" not in mail.text and "color:red" not in mail.text
    assert "Thanks & regards" in mail.text


def test_png_attachment_with_an_rfc2231_chinese_name() -> None:
    mail = parse_mail(load("multipart_png.eml"))
    assert mail.text == "充值一直提示失败，截图在附件里。"
    [attachment] = mail.attachments
    assert attachment.filename == "截图.png"
    assert attachment.content_type == "image/png"
    assert attachment.data.startswith(b"\x89PNG\r\n\x1a\n")


def test_reply_headers_and_quoted_text() -> None:
    mail = parse_mail(load("reply_in_reply_to.eml"))
    assert mail.in_reply_to == "<zhang-first-0005@example.cn>"
    assert mail.thread_ids == ("<zhang-first-0005@example.cn>",)
    assert strip_quoted(mail.text) == "我又试了一次，还是失败。"


def test_unreadable_mail_says_why() -> None:
    with pytest.raises(MailUnreadable) as caught:
        parse_mail(load("no_body.eml"))
    assert caught.value.reason == "the mail has no text and no attachments"


def test_a_wrong_or_unknown_charset_is_decoded_by_detection() -> None:
    assert parse_mail(load("broken_charset.eml")).text == "充值不到账"  # UTF-8 declared, GBK sent
    unknown = b"From: a@example.cn\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\n"
    assert parse_mail(unknown + "退款没收到".encode("gb18030") + b"\r\n").text == "退款没收到"


@pytest.mark.parametrize("text", ["退款", "充值没到账", "账户被冻结了，请尽快处理", "提现失败"])
@pytest.mark.parametrize("declared", ["utf-8", "gb2312", "us-ascii"])
def test_encoded_words_in_the_wrong_charset_are_detected(text: str, declared: str) -> None:
    import base64

    word = base64.b64encode(text.encode("gb18030")).decode()
    assert decode_words(f"=?{declared}?B?{word}?=") == text


def test_an_encoded_word_that_cannot_be_decoded_is_kept_as_written() -> None:
    assert decode_words("=?utf-8?B?a?=") == "=?utf-8?B?a?="
    assert decode_words("=?utf-8?Q?a=00b?=") == "a\ufffdb"


def test_a_missing_sender_is_unreadable() -> None:
    with pytest.raises(MailUnreadable, match="no sender address"):
        parse_mail(b"Subject: hi\r\n\r\nhello\r\n")


def test_english_reply_quote_is_cut() -> None:
    text = "Still broken.\n\nOn Mon, 23 Nov 2026 at 10:00, Kefu wrote:\n> We received it"
    assert strip_quoted(text) == "Still broken."
    assert decode_words("=?utf-8?Q?=E9=80=80=E6=AC=BE?= please") == "退款 please"
