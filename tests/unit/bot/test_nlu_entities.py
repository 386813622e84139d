from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from kefu.bot.nlu import extract_entities
from kefu.cases import refs

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=TZ)  # a Wednesday


def at(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


@pytest.mark.parametrize(
    ("text", "lang", "value", "currency"),
    [
        ("充值¥500没到账", "zh-CN", "500", "CNY"),
        ("充了500元", "zh-CN", "500", "CNY"),
        ("被扣了五百块", "zh-CN", "500", "CNY"),
        ("转了1,000.50", "zh-CN", "1000.50", "CNY"),
        ("充值1.5万元", "zh-CN", "15000", "CNY"),
        ("付了 ￥88.80", "zh-CN", "88.80", "CNY"),
        ("I topped up RMB 1,000", "en", "1000", "CNY"),
        ("charged 200 yuan twice", "en", "200", "CNY"),
        ("paid $20 for it", "en", "20", "USD"),
        ("a refund of 1,000.50", "en", "1000.50", "CNY"),
    ],
)
def test_amounts(text: str, lang: str, value: str, currency: str) -> None:
    (amount,) = extract_entities(text, now=NOW, lang=lang).amounts  # type: ignore[arg-type]
    assert amount.value == Decimal(value)
    assert amount.currency == currency


@pytest.mark.parametrize(
    "text", ["3月5号", "尾号1234的卡", "10:30", "13800138000", "KF-2611-7Q4MB-G", "等了3天"]
)
def test_not_amounts(text: str) -> None:
    assert extract_entities(text, now=NOW).amounts == []


@pytest.mark.parametrize(
    ("text", "lang", "start", "end"),
    [
        ("昨天晚上充的值", "zh-CN", at(11, 24, 18), at(11, 25)),
        ("今天上午10点付的款", "zh-CN", at(11, 25, 10), at(11, 25, 10)),
        ("3月5号转的账", "zh-CN", at(3, 5), at(3, 6)),
        ("上周五下午3点半", "zh-CN", at(11, 20, 15, 30), at(11, 20, 15, 30)),
        ("前天", "zh-CN", at(11, 23), at(11, 24)),
        ("昨晚8点", "zh-CN", at(11, 24, 20), at(11, 24, 20)),
        ("2024年12月31日", "zh-CN", at(12, 31, year=2024), at(1, 1, year=2025)),
        ("12月31号", "zh-CN", at(12, 31, year=2025), at(1, 1, year=2026)),  # not in the future
        ("3天前", "zh-CN", at(11, 22), at(11, 23)),
        ("last Friday", "en", at(11, 20), at(11, 21)),
        ("yesterday evening at 8pm", "en", at(11, 24, 20), at(11, 24, 20)),
        ("this morning", "en", at(11, 25, 6), at(11, 25, 12)),
        ("on March 5", "en", at(3, 5), at(3, 6)),
        ("the 5th of March", "en", at(3, 5), at(3, 6)),
        ("05/03/2024", "en", at(3, 5, year=2024), at(3, 6, year=2024)),
        ("2026-03-05 14:20", "en", at(3, 5, 14, 20), at(3, 5, 14, 20)),
        ("at 10:30 pm", "en", at(11, 25, 22, 30), at(11, 25, 22, 30)),
    ],
)
def test_times(text: str, lang: str, start: datetime, end: datetime) -> None:
    (mention,) = extract_entities(text, now=NOW, lang=lang).times  # type: ignore[arg-type]
    assert (mention.start, mention.end) == (start, end)
    assert mention.start.tzinfo is not None


def test_times_resolve_in_shanghai_whatever_the_zone_of_now() -> None:
    utc_now = datetime(2026, 11, 25, 17, 0, tzinfo=ZoneInfo("UTC"))  # 01:00 on the 26th in Shanghai
    (mention,) = extract_entities("昨天", now=utc_now).times
    assert mention.start == at(11, 25)


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("我的手机号13800138000", "+8613800138000"),
        ("call me on 138 0013 8000", "+8613800138000"),
        ("电话+86 139-0000-1111", "+8613900001111"),
        ("打０２１－６２３４５６７８", "+862162345678"),
    ],
)
def test_phones(text: str, phone: str) -> None:
    assert extract_entities(text, now=NOW).phones == [phone]


def test_emails_and_urls() -> None:
    found = extract_entities(
        "邮箱 Zhang.San@Example.com，网址 https://kefu-pay.cn/login?x=1 和 www.kefu.com.cn",
        now=NOW,
    )
    assert found.emails == ["zhang.san@example.com"]
    assert found.urls == ["https://kefu-pay.cn/login?x=1", "www.kefu.com.cn"]


def test_bare_domains_are_urls_but_email_domains_are_not() -> None:
    found = extract_entities(
        "is kefu-wallet.com yours? mail support@kefu-pay.net", now=NOW, lang="en"
    )
    assert found.urls == ["kefu-wallet.com"]
    assert found.emails == ["support@kefu-pay.net"]


def test_references_are_validated() -> None:
    good = str(refs.new_reference(NOW))
    found = extract_entities(f"工单{good.lower()}和KF-2611-7Q4MB-X怎么样了", now=NOW)
    assert found.references == [good]
    assert found.mistyped_references == ["KF-2611-7Q4MB-X"]


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("尾号1234的卡", "zh-CN"),
        ("卡号后四位是1234", "zh-CN"),
        ("card ending in 1234", "en"),
        ("the last 4 digits are 1234", "en"),
        ("card **** 1234", "en"),
    ],
)
def test_card_last4(text: str, lang: str) -> None:
    found = extract_entities(text, now=NOW, lang=lang)  # type: ignore[arg-type]
    assert found.card_last4 == ["1234"]
    assert found.amounts == []


def test_nothing_in_plain_text() -> None:
    found = extract_entities("我要转人工", now=NOW)
    assert found == type(found)()
