"""Recognition on phrasings the model never trained on (tests/fixtures/nlu_holdout.tsv)."""

import csv
from pathlib import Path

import pytest

from kefu.bot.nlu import INTENTS, classify, classify_many
from kefu.bot.nlu.data import load_examples
from kefu.bot.nlu.model import prepare

HOLDOUT = Path(__file__).parents[2] / "fixtures" / "nlu_holdout.tsv"
# The product targets are 92 % (zh) and 90 % (en) on real customers' phrasings; on this file,
# written apart from the training data, the model scores about 98 %, and a drop below these
# floors means a change made recognition worse.
TARGETS = {"zh": 0.96, "en": 0.95}


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
        assert sum(1 for e in examples if e.intent == intent and e.lang == "zh") >= 110
        assert sum(1 for e in examples if e.intent == intent and e.lang == "en") >= 90


def test_no_phrasing_is_taught_as_two_intents() -> None:
    seen: dict[str, str] = {}
    for example in load_examples():
        prepared = prepare(example.text)
        assert seen.setdefault(prepared, example.intent) == example.intent, example.text


@pytest.mark.parametrize("lang", sorted(TARGETS))
def test_holdout_accuracy(lang: str) -> None:
    rows = [row for row in holdout() if row["lang"] == lang]
    results = classify_many([row["text"] for row in rows])
    correct = sum(r.intent == row["intent"] for r, row in zip(results, rows, strict=True))
    assert correct / len(rows) >= TARGETS[lang]


def test_holdout_accuracy_on_phrasings_absent_from_training() -> None:
    trained = {prepare(example.text) for example in load_examples()}
    rows = [row for row in holdout() if prepare(row["text"]) not in trained]
    assert len(rows) >= 1100
    results = classify_many([row["text"] for row in rows])
    correct = sum(r.intent == row["intent"] for r, row in zip(results, rows, strict=True))
    assert correct / len(rows) >= 0.95


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


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("wo yao zhuan rengong", "human_agent"),  # pinyin
        ("chongzhi le mei daozhang", "recharge_not_credited"),
        ("我的top up没到账", "recharge_not_credited"),  # mixed Chinese and English
        ("pls help acct locked", "account_locked"),  # abbreviations
        ("登陆不上去了", "login_failed"),  # homophone typo of 登录
        ("ＡＰＰ一直閃退😭", "app_technical"),  # full-width, traditional, emoji
        ("refund?", "refund"),
    ],
)
def test_how_customers_really_type(text: str, intent: str) -> None:
    assert classify(text).intent == intent


def test_one_message_and_a_batch_give_the_same_answer() -> None:
    texts = [row["text"] for row in holdout()[:200]]
    for single, batched in zip(map(classify, texts), classify_many(texts), strict=True):
        assert single.intent == batched.intent
        assert single.confidence == pytest.approx(batched.confidence, abs=1e-4)


def test_confidence_means_what_it_says() -> None:
    """Calibration on the held-out file: confident answers are right about as often as they
    claim, and wrong answers are less confident than right ones."""
    rows = holdout()
    results = classify_many([row["text"] for row in rows])
    pairs = list(zip(results, rows, strict=True))
    right = [r.confidence for r, row in pairs if r.intent == row["intent"]]
    wrong = [r.confidence for r, row in pairs if r.intent != row["intent"]]
    assert sum(wrong) / len(wrong) < sum(right) / len(right) - 0.2
    sure = [(r, row) for r, row in pairs if r.confidence >= 0.8]
    assert len(sure) >= len(rows) / 2
    assert sum(r.intent == row["intent"] for r, row in sure) / len(sure) >= 0.95
    for result in results:
        assert sum(p for _, p in result.alternatives) + result.confidence <= 1.0 + 1e-3
