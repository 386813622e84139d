"""Reference numbers: readable, checked, and convertible to keypad digits and back."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.cases import refs
from kefu.cases.refs import ALPHABET, Reference, ReferenceInvalid, ReferenceMistyped

references = st.builds(
    Reference,
    period=st.sampled_from(["2601", "2611", "2712", "3005"]),
    number=st.integers(min_value=0, max_value=refs.RANDOM_LIMIT - 1),
)


def test_shape_and_alphabet() -> None:
    ref = refs.new_reference(datetime(2026, 11, 23, 10, tzinfo=ZoneInfo("Asia/Shanghai")))
    text = str(ref)
    assert text.startswith("KF-2611-")
    prefix, period, random_part, check = text.split("-")
    assert (prefix, period, len(random_part), len(check)) == ("KF", "2611", 5, 1)
    assert set(random_part + check) <= set(ALPHABET)
    assert not set("ILOUZ") & set(ALPHABET)


@given(references)
def test_text_and_digit_forms_round_trip(ref: Reference) -> None:
    assert refs.parse(str(ref)) == ref
    assert len(ref.digits) == 13 and ref.digits.isdigit()
    assert refs.parse(ref.digits) == ref
    assert refs.parse(ref.digits).digits == ref.digits


@given(references, st.integers(min_value=0, max_value=9), st.integers(1, 30))
def test_any_single_wrong_symbol_is_rejected(ref: Reference, position: int, shift: int) -> None:
    body = "".join(str(ref).split("-")[1:])  # YYMM + random + check, 10 symbols
    wrong = ALPHABET[(ALPHABET.index(body[position]) + shift) % len(ALPHABET)]
    mistyped = body[:position] + wrong + body[position + 1 :]
    with pytest.raises((ReferenceMistyped, ReferenceInvalid)):
        refs.parse("KF" + mistyped)


@given(references, st.integers(min_value=0, max_value=8))
def test_swapped_neighbours_are_rejected(ref: Reference, position: int) -> None:
    body = "".join(str(ref).split("-")[1:])
    if body[position] == body[position + 1]:
        return
    swapped = body[:position] + body[position + 1] + body[position] + body[position + 2 :]
    with pytest.raises((ReferenceMistyped, ReferenceInvalid)):
        refs.parse("KF" + swapped)


@given(references, st.integers(min_value=0, max_value=12), st.integers(1, 9))
def test_any_single_wrong_keypad_digit_is_rejected(
    ref: Reference, position: int, shift: int
) -> None:
    digits = ref.digits
    wrong = str((int(digits[position]) + shift) % 10)
    with pytest.raises((ReferenceMistyped, ReferenceInvalid)):
        refs.parse(digits[:position] + wrong + digits[position + 1 :])


def test_lenient_spellings_are_accepted() -> None:
    canonical = str(Reference(period="2611", number=123_456))
    lower = canonical.lower()
    full_width = "".join(chr(ord(c) + 0xFEE0) if c != "-" else "－" for c in canonical)
    spaced = " ".join(canonical.replace("-", ""))
    assert refs.canonical(lower) == canonical
    assert refs.canonical(full_width) == canonical
    assert refs.canonical(spaced) == canonical
    assert refs.canonical(canonical.replace("-", "")[2:]) == canonical  # without KF


def test_confusable_letters_read_as_digits() -> None:
    text = str(Reference(period="2611", number=31**4 + 31))  # random part "10010"
    assert text.startswith("KF-2611-10010-")
    typed = text.replace("1", "I", 1).replace("0", "O")
    assert refs.canonical(typed.replace("KF-2", "kf-2")) == text
    assert refs.canonical(text.replace("1", "l")) == text


def test_wrong_check_character_is_a_typo_not_a_match() -> None:
    text = str(Reference(period="2611", number=42))
    bad_check = ALPHABET[(ALPHABET.index(text[-1]) + 1) % len(ALPHABET)]
    with pytest.raises(ReferenceMistyped) as caught:
        refs.parse(text[:-1] + bad_check)
    assert caught.value.code == "reference_mistyped"


@pytest.mark.parametrize(
    "text",
    ["", "KF", "hello", "KF-2611-ABCD-X", "KF-2613-00000-0", "KF-2611-000000-00", "12345", "#"],
)
def test_malformed_text_is_invalid(text: str) -> None:
    with pytest.raises(ReferenceInvalid):
        refs.parse(text)


def test_keypad_number_out_of_range_is_invalid() -> None:
    body = "2611" + f"{refs.RANDOM_LIMIT:08d}"
    with pytest.raises(ReferenceInvalid):
        refs.parse(body + str(refs.damm_digit(body)))
