"""NHS number checks and pseudonyms (pure functions)."""

from __future__ import annotations

import pytest

from survey_app.activation.nhs_number import NhsNumberError, parse_nhs_number, pseudonymise


@pytest.mark.parametrize("raw, digits", [
    ("9434765919", "9434765919"),      # NHS Digital's published example
    ("943 476 5919", "9434765919"),
    ("943-476-5919", "9434765919"),
    # 999 testing range: 9*10+9*9+9*8+1*7+2*6+3*5+4*4+5*3+7*2 = 322; 322 % 11 = 3; 11-3 = 8
    ("999 123 4578", "9991234578"),
])
def test_valid_numbers_are_accepted_with_spaces_and_dashes(raw, digits):
    assert parse_nhs_number(raw) == digits


@pytest.mark.parametrize("raw, message", [
    ("9434765918", "not valid"),          # wrong check digit
    ("943476591", "10 digits long; this has 9"),
    ("94347659191", "this has 11"),
    ("94347A5919", "only numbers"),
    ("0000000000", "not a real NHS number"),
    ("4444444444", "not a real NHS number"),
    ("9999999990", "not valid"),
])
def test_bad_numbers_are_refused_with_a_clear_reason(raw, message):
    with pytest.raises(NhsNumberError, match=message):
        parse_nhs_number(raw)


def test_a_check_digit_of_ten_means_no_valid_number():
    # 999000001?: 9*10+9*9+9*8+1*2 = 245; 245 % 11 = 3; 11 - 3 = 8 -> valid with 8.
    assert parse_nhs_number("9990000018") == "9990000018"
    # 100000001?: 1*10 + 1*2 = 12; 12 % 11 = 1; 11 - 1 = 10 -> no digit can be right.
    for last in "0123456789":
        with pytest.raises(NhsNumberError):
            parse_nhs_number("100000001" + last)


def test_pseudonym_is_stable_per_key_and_differs_between_keys():
    first = pseudonymise("9434765919", b"key-one-" * 4)
    assert first == pseudonymise("9434765919", b"key-one-" * 4)
    assert first != pseudonymise("9434765919", b"key-two-" * 4)
    assert first != pseudonymise("9991234578", b"key-one-" * 4)
    assert len(first) == 64 and "9434765919" not in first


@pytest.mark.parametrize("raw", [
    "943476591\u00b2",                                            # superscript two
    "".join(chr(0x0660 + int(d)) for d in "9434765919"),          # Arabic-Indic
    "".join(chr(0xFF10 + int(d)) for d in "9434765919"),          # full-width
])
def test_only_ascii_digits_count(raw):
    # A superscript, Arabic-Indic or full-width digits would otherwise hash to a
    # different pseudonym for the same patient, breaking paired change.
    with pytest.raises(NhsNumberError, match="only numbers"):
        parse_nhs_number(raw)
