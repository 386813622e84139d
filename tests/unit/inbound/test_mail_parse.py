"""Real .eml fixtures through the MIME parser: Chinese charsets, encodings, attachments."""

from __future__ import annotations

from pathlib import Path

import pytest

from kefu.inbound.email.parse import MailUnreadable, decode_words, parse_mail, strip_quoted

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


# Chinese mail under the other family's label: a GBK body called Big5 (or Big5 called GB2312)
# decodes without an error into nonsense; detection must win. Several customers' sentences,
# each a mail of its own, and all of them as one mail.
SIMPLIFIED = [
    "您好，我昨天在手机上给钱包充值了五百元，银行卡已经扣款，但是余额一直没有到账。",
    "请帮我查一下这笔交易，订单号在附件的截图里。谢谢！",
    "我的账户被冻结了，不知道是什么原因，能不能尽快处理？我下周还要付房租。",
    "付款失败了但是钱被扣了，商家说没有收到款项，请问钱去哪里了？",
    "上个月申请的退款到现在还没有退回来，客服电话一直打不通。",
]
TRADITIONAL = [
    "您好，我昨天在手機上給錢包儲值了五百元，銀行卡已經扣款，但是餘額一直沒有到帳。",
    "請幫我查一下這筆交易，訂單號碼在附件的截圖裡。謝謝！",
    "我的帳戶被凍結了，不知道是什麼原因，能不能盡快處理？我下週還要付房租。",
    "付款失敗了但是錢被扣了，商家說沒有收到款項，請問錢去哪裡了？",
    "上個月申請的退款到現在還沒有退回來，客服電話一直打不通。",
]


def _mail(body: bytes, charset: str, subject: str = "Subject: hi") -> bytes:
    head = f"From: a@example.cn\r\n{subject}\r\nContent-Type: text/plain; charset={charset}\r\n"
    return head.encode() + b"\r\n" + body + b"\r\n"


@pytest.mark.parametrize("label", ["big5", "Big5", "big5-hkscs", "cp950"])
@pytest.mark.parametrize("text", [*SIMPLIFIED, "\n".join(SIMPLIFIED)])
def test_a_gbk_body_labelled_big5_reads_as_simplified_chinese(text: str, label: str) -> None:
    body = text.encode("gbk")
    assert body.decode("big5", "replace") != text  # the label alone reads nonsense
    assert parse_mail(_mail(body, label)).text == text


@pytest.mark.parametrize("label", ["gb2312", "gbk", "GB18030"])
@pytest.mark.parametrize("text", [*TRADITIONAL, "\n".join(TRADITIONAL)])
def test_a_big5_body_labelled_gb2312_reads_as_traditional_chinese(text: str, label: str) -> None:
    body = text.encode("big5")
    assert body.decode("gb18030", "replace") != text
    assert parse_mail(_mail(body, label)).text == text


@pytest.mark.parametrize(
    ("encoding", "label", "text"),
    [
        *[("gbk", "gb2312", t) for t in [*SIMPLIFIED, "退款", "充值没到账", "密码忘了怎么办"]],
        *[("big5", "big5", t) for t in [*TRADITIONAL, "退款", "儲值沒到帳", "密碼忘了怎麼辦"]],
    ],
)
def test_a_right_chinese_label_is_kept(encoding: str, label: str, text: str) -> None:
    """Short texts read about as well in either family: a right label is never overruled."""
    assert parse_mail(_mail(text.encode(encoding), label)).text == text


def test_a_subject_in_the_other_chinese_family_is_detected() -> None:
    import base64

    text = "关于上个月退款的问题，请尽快处理"
    word = base64.b64encode(text.encode("gbk")).decode()
    assert decode_words(f"=?big5?B?{word}?=") == text
    traditional = "關於上個月退款的問題，請盡快處理"
    word = base64.b64encode(traditional.encode("big5")).decode()
    assert decode_words(f"=?gb2312?B?{word}?=") == traditional
