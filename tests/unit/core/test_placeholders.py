"""The one rule for canned replies' placeholders: what is known is filled, an unknown name
reads neutrally where the wording allows, anything else is marked and refused when sent."""

from __future__ import annotations

import pytest

from kefu.errors import InvalidInput
from kefu.i18n import translate
from kefu.placeholders import NAMES, UnfilledPlaceholder, fill, refuse_unfilled, unfilled

GREETING_ZH = translate("chat.canned.greeting.text", "zh-CN")
GREETING_EN = translate("chat.canned.greeting.text", "en")
CHECKING_ZH = translate("chat.canned.checking.text", "zh-CN")
CHECKING_EN = translate("chat.canned.checking.text", "en")


def test_known_values_are_filled_and_nothing_is_left() -> None:
    values = {"customer_name": "刘洋", "agent_name": "坐席 小王", "case_reference": "KF-1"}
    text = fill(GREETING_ZH + CHECKING_ZH, values, "zh-CN")
    assert text.startswith("刘洋您好，我是坐席 小王") and "KF-1" in text
    assert unfilled(text, "zh-CN") is None
    refuse_unfilled(text, "zh-CN")  # nothing to refuse


def test_an_anonymous_visitor_is_greeted_neutrally_in_both_languages() -> None:
    zh = fill(GREETING_ZH, {"agent_name": "坐席 小王"}, "zh-CN")
    en = fill(GREETING_EN, {"agent_name": "Wang"}, "en")
    assert zh == "您好，我是坐席 小王，很高兴为您服务。请问有什么可以帮您？"
    assert en == "Hello there, this is Wang. How can I help you?"
    assert unfilled(zh, "zh-CN") is None and unfilled(en, "en") is None


@pytest.mark.parametrize(
    ("lang", "text", "filled"),
    [
        ("zh-CN", "{customer_name}，您好！", "您好！"),
        ("zh-CN", "尊敬的{customer_name}：已为您处理。", "尊敬的客户：已为您处理。"),
        ("en", "Hi, {customer_name}!", "Hi there!"),
        ("en", "Good morning {customer_name}.", "Good morning there."),
        ("en", "Dear {customer_name},", "Dear customer,"),
        ("en", "Thank you, {customer_name}.", "Thank you."),
    ],
)
def test_the_neutral_forms_of_an_unknown_name(lang: str, text: str, filled: str) -> None:
    assert fill(text, {}, "en" if lang == "en" else "zh-CN") == filled


def test_an_unknown_name_without_a_natural_neutral_form_is_marked() -> None:
    zh = fill("请{customer_name}留意短信。", {}, "zh-CN")
    en = fill("{customer_name}, your top-up is on its way.", {}, "en")
    assert zh == "请【请填写：客户称呼】留意短信。"
    assert en == "[fill in: customer's name], your top-up is on its way."


def test_a_case_reference_unknown_is_marked_never_left_raw() -> None:
    zh = fill(CHECKING_ZH, {"agent_name": "坐席 小王"}, "zh-CN")
    en = fill(CHECKING_EN, {"agent_name": "Wang"}, "en")
    assert "{" not in zh and "{" not in en
    assert "【请填写：工单编号】" in zh and "[fill in: case reference]" in en
    assert unfilled(zh, "zh-CN") == "【请填写：工单编号】"
    assert unfilled(en, "en") == "[fill in: case reference]"
    # the older and the newer name of the reference are marked alike
    assert fill("{reference}", {}, "en") == fill("{case_reference}", {}, "en")


def test_an_empty_value_counts_as_unknown() -> None:
    assert fill("Hello {customer_name}.", {"customer_name": ""}, "en") == "Hello there."


@pytest.mark.parametrize("name", NAMES)
def test_a_raw_placeholder_is_refused_and_named_as_the_agent_would_see_it(name: str) -> None:
    with pytest.raises(UnfilledPlaceholder) as refused:
        refuse_unfilled(f"您的案件 {{{name}}} 已登记", "zh-CN")
    assert refused.value.params["part"].startswith("【请填写：")
    assert isinstance(refused.value, InvalidInput) and refused.value.status == 400
    message = translate(refused.value.message_key, "en", **refused.value.params)
    assert "【请填写：" in message and "Please complete it before sending" in message


def test_a_mark_in_either_language_is_refused_whatever_the_chats_language() -> None:
    for text in ("Case [fill in: case reference] is open.", "案件【请填写：工单编号】已登记"):
        for lang in ("zh-CN", "en"):
            with pytest.raises(UnfilledPlaceholder):
                refuse_unfilled(text, lang)  # type: ignore[arg-type]


def test_ordinary_brackets_and_braces_are_not_refused() -> None:
    for text in ("见【重要提示】", "[1] see note", "{name} is not ours", "金额 {}"):
        assert unfilled(text, "zh-CN") is None
