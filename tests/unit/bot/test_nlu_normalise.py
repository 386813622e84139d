import pytest

from kefu.bot.nlu import detect_language, normalise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＡＰＰ閃退１２３", "app闪退123"),  # full-width, traditional
        ("帳戶被鎖了", "账户被锁了"),
        ("充值到帐了吗", "充值到账了吗"),  # 帐/账 variant folded
        ("充了五百块", "充了500块"),
        ("三月五号", "3月5号"),
        ("一千二百元", "1200元"),
        ("二零二四年十二月三十一日", "2024年12月31日"),
        ("十点半", "10点半"),
        ("两百块", "200块"),
        ("  多个   空格\t\n ", "多个 空格"),
    ],
)
def test_normalise_folds_forms(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize(
    "word", ["一直没到账", "快一点", "两三天了", "十分感谢", "千万别", "万一", "统一"]
)
def test_numeral_words_are_not_numbers(word: str) -> None:
    assert normalise(word) == word


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("在吗", "zh-CN"),
        ("app闪退了", "zh-CN"),
        ("我的account被锁了", "zh-CN"),
        ("hello", "en"),
        ("my 账户 is locked", "en"),
        ("12345", "zh-CN"),
        ("", "zh-CN"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang
