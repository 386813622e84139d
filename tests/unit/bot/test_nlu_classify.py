"""Recognition on phrasings the model never trained on (tests/fixtures/nlu_holdout.tsv)."""

import csv
from pathlib import Path

import pytest

from kefu.bot.nlu import INTENTS, classify, classify_many
from kefu.bot.nlu.data import load_examples
from kefu.bot.nlu.model import prepare

HOLDOUT = Path(__file__).parents[2] / "fixtures" / "nlu_holdout.tsv"
TARGETS = {"zh": 0.92, "en": 0.90}


def holdout() -> list[dict[str, str]]:
    with HOLDOUT.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_holdout_uses_contract_ids_and_covers_every_intent() -> None:
    rows = holdout()
    for lang in TARGETS:
        counts = dict.fromkeys(INTENTS, 0)
        for row in rows:
            if row["lang"] == lang:
                counts[row["intent"]] += 1  # KeyError for an id outside the contract
        assert min(counts.values()) >= 15


def test_training_data_covers_every_intent_in_both_languages() -> None:
    examples = load_examples()
    for intent in INTENTS:
        assert sum(1 for e in examples if e.intent == intent and e.lang == "zh") >= 70
        assert sum(1 for e in examples if e.intent == intent and e.lang == "en") >= 45


@pytest.mark.parametrize("lang", sorted(TARGETS))
def test_holdout_accuracy(lang: str) -> None:
    rows = [row for row in holdout() if row["lang"] == lang]
    results = classify_many([row["text"] for row in rows])
    correct = sum(r.intent == row["intent"] for r, row in zip(results, rows, strict=True))
    assert correct / len(rows) >= TARGETS[lang]


def test_holdout_accuracy_on_phrasings_absent_from_training() -> None:
    trained = {prepare(example.text) for example in load_examples()}
    rows = [row for row in holdout() if prepare(row["text"]) not in trained]
    assert len(rows) >= 700
    results = classify_many([row["text"] for row in rows])
    correct = sum(r.intent == row["intent"] for r, row in zip(results, rows, strict=True))
    assert correct / len(rows) >= 0.90


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("在吗", "greeting"),
        ("转人工", "human_agent"),
        ("人工", "human_agent"),
        ("退款", "refund"),
        ("投诉", "complaint"),
        ("谢谢", "thanks_goodbye"),
        ("hi", "greeting"),
        ("human", "human_agent"),
        ("refund", "refund"),
    ],
)
def test_short_messages(text: str, intent: str) -> None:
    assert classify(text).intent == intent


@pytest.mark.parametrize("junk", ["", "   ", "😀😀😀", "\x00\x01\x02", "？？！！。。", "\ud800"])
def test_junk_is_out_of_scope_with_no_confidence(junk: str) -> None:
    result = classify(junk)
    assert (result.intent, result.confidence) == ("out_of_scope", 0.0)


def test_huge_input_is_capped_not_a_crash() -> None:
    assert classify("充值" * 1_000_000).intent in INTENTS


def test_long_story_with_the_fact_in_the_middle() -> None:
    story = (
        "你好，我是你们的老用户了，平时一直用钱包买菜交水电费，一直都挺好的。"
        "昨天晚上八点多我用招商银行卡充值了500块，银行短信说已经扣款成功，"
        "可是钱包余额到现在都没有变化，我今天还要用这笔钱交房租，麻烦你们帮我看看。"
    )
    assert classify(story).intent == "recharge_not_credited"


def test_result_shape() -> None:
    result = classify("我的账户被冻结了，怎么解冻")
    assert result.intent == "account_locked"
    assert 0.0 < result.confidence <= 1.0
    assert len(result.alternatives) == 3
    assert all(intent in INTENTS and intent != result.intent for intent, _ in result.alternatives)
    assert all(p <= result.confidence for _, p in result.alternatives)


def test_mixed_traditional_and_typos() -> None:
    assert classify("冲值了钱没到帐").intent == "recharge_not_credited"
    assert classify("帳戶被凍結了").intent == "account_locked"
    assert classify("app閃退").intent == "app_technical"
