"""Security answers are normalised before hashing, so every way of writing the same answer
is the same answer; what cannot be an answer is refused with the question named."""

from __future__ import annotations

from datetime import date

import pytest

from kefu.errors import InvalidInput
from kefu.identity import questions


@pytest.mark.parametrize(
    "raw",
    ["19900305", "1990-03-05", "1990/3/5", "1990.03.05", "1990年3月5日", "１９９０ ０３ ０５"],
)
def test_a_date_of_birth_written_any_way_is_one_answer(raw: str) -> None:
    assert questions.normalise_birth_date(raw) == "19900305"


@pytest.mark.parametrize("raw", ["19901399", "19900230", "1990035", "18991231", "abc", ""])
def test_what_is_not_a_date_of_birth_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        questions.normalise_birth_date(raw)
    assert refused.value.params["field"] == "birth_date"


def test_a_date_of_birth_cannot_be_in_the_future() -> None:
    with pytest.raises(InvalidInput):
        questions.normalise_birth_date("20300101", today=date(2026, 11, 23))


@pytest.mark.parametrize("raw", ["31002X", "31002x", "31002*", " 310 02X ", "３１００２Ｘ"])
def test_the_id_check_letter_x_is_typed_as_star(raw: str) -> None:
    assert questions.normalise_id_last6(raw) == "31002X"


@pytest.mark.parametrize("raw", ["3100X2", "31002", "310022X", "ABCDEF", "11010519900305123X"])
def test_only_the_last_six_characters_of_an_id_are_taken(raw: str) -> None:
    with pytest.raises(InvalidInput):
        questions.normalise_id_last6(raw)


@pytest.mark.parametrize("raw", ["0305", "03-05", "3/5", "3月5日"])
def test_a_birthday_is_month_and_day(raw: str) -> None:
    assert questions.normalise_mother_birthday(raw) == "0305"


def test_29_february_is_a_birthday_and_30_february_is_not() -> None:
    assert questions.normalise_mother_birthday("0229") == "0229"
    with pytest.raises(InvalidInput):
        questions.normalise_mother_birthday("0230")


def test_every_question_fits_a_keypad_and_has_texts_in_both_languages() -> None:
    from kefu.i18n import catalogue

    for question in questions.QUESTIONS.values():
        assert 4 <= question.keys <= 8
        for lang in ("zh-CN", "en"):
            assert f"security.question.{question.id}" in catalogue(lang)
            assert f"voice.id.q.ask.{question.id}" in catalogue(lang)
            assert f"voice.id.q.shape.{question.id}" in catalogue(lang)
