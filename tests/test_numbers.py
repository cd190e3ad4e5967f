"""okrapp.numbers.parse_number: the separators people type, and the ambiguous input it refuses."""

from decimal import Decimal, InvalidOperation

import pytest

from okrapp.numbers import parse_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("39.5", "39.5"),
        (" 42 ", "42"),
        ("-3", "-3"),
        ("1e3", "1000"),
        ("39,5", "39.5"),  # the decimal comma: once read as 395
        ("0,75", "0.75"),
        (",5", "0.5"),
        ("-1,5", "-1.5"),
        ("1,250", "1250"),  # thousands, grouped in threes
        ("12,500.75", "12500.75"),
        ("1,234,567", "1234567"),
        ("1.250,5", "1250.5"),  # dots for thousands, comma for decimals
        ("1.250.000", "1250000"),
        ("1 250", "1250"),
        ("1\u00a0250,5", "1250.5"),
        ("1'250.5", "1250.5"),
    ],
)
def test_reads_what_people_type(text, expected):
    assert parse_number(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "abc", "1,2,3", "12,34,56", "1.2.3", "1,250.5.0", "1.250,5,0", ",", "3,5%"])
def test_refuses_what_it_would_have_to_guess(text):
    with pytest.raises(InvalidOperation):
        parse_number(text)
