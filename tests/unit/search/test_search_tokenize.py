from __future__ import annotations

import pytest

from kefu.errors import InvalidInput
from kefu.search.service import tokenize
from kefu.search.snippet import make_snippet, mask_card_numbers
from kefu.search.tokenize import MAX_QUERY_CHARS, MAX_QUERY_TOKENS, normalize, plan_query


def test_two_character_words_are_tokens_wherever_jieba_cuts():
    # jieba cuts 充值没到账 as 充值/没到/账; the bigram 到账 is indexed all the same.
    assert "到账" in tokenize("充值没到账")
    assert "提现" in tokenize("我要提现到银行卡")
    assert "退款" in tokenize("申请退款三天了")


def test_long_words_are_kept_besides_bigrams():
    tokens = tokenize("银行卡绑定失败")
    assert "银行卡" in tokens
    assert {"银行", "行卡", "绑定", "失败"} <= set(tokens)


def test_traditional_becomes_simplified():
    assert tokenize("提現") == tokenize("提现") == ["提现"]
    assert tokenize("帳戶被鎖定") == tokenize("账户被锁定")


def test_full_width_letters_and_digits_become_half_width():
    assert tokenize("ＡＰＰ　１２３４") == ["app", "1234"]
    assert normalize("ＫＦ－２６１１") == "kf-2611"


def test_mixed_chinese_and_english():
    assert tokenize("app闪退") == ["app", "闪退"]
    assert tokenize("Refund没到账") == ["refund", "没到", "到账"]


def test_english_is_lower_cased_plurals_folded_stopwords_dropped():
    assert tokenize("My Refunds and the Cards") == ["refund", "card"]
    assert tokenize("batteries boxes address") == ["battery", "box", "address"]


def test_references_amounts_and_card_tails():
    tokens = tokenize("KF-2611-7Q4M-X 金额100.50元 尾号6228")
    assert {"kf", "2611", "7q4m", "kf-2611-7q4m-x", "100.5", "100", "6228"} <= set(tokens)
    assert tokenize("100.00") == ["100"]


def test_repeats_are_kept_for_term_frequency():
    assert tokenize("退款 退款") == ["退款", "退款"]


def test_nothing_searchable():
    assert tokenize("") == []
    assert tokenize("😀🎉 ！？。") == []
    assert plan_query("😀").tokens == ()


def test_query_plan_requires_words_and_half_the_bigrams():
    plan = plan_query("refund没到账")
    assert plan.required == {"refund"}
    assert plan.min_match == 3
    long_plan = plan_query("充值没到账")
    assert long_plan.required == frozenset()
    assert long_plan.han_minimum == 2


def test_query_length_is_capped():
    with pytest.raises(InvalidInput):
        plan_query("退" * (MAX_QUERY_CHARS + 1))
    assert len(plan_query("退款提现到账" * 30).tokens) <= MAX_QUERY_TOKENS


def test_card_numbers_are_masked_before_indexing():
    masked = mask_card_numbers("卡号 6222 0212 3456 7890，手机13800138000")
    assert "6222" not in masked and "7890" in masked
    assert "13800138000" in masked


def test_snippet_starts_near_first_match_in_original_text():
    text = "开头" * 40 + "我的提現一直沒有到賬" + "结尾" * 40
    snippet = make_snippet(text, ("提现",))
    assert "提現" in snippet
    assert snippet.startswith("…") and snippet.endswith("…")
    assert make_snippet("short", ("zzz",)) == "short"
