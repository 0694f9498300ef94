from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.digits import NotANumber, localize_digits, parse_decimal, parse_int, to_latin


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1500", Decimal("1500")),
        ("۱۵۰۰", Decimal("1500")),
        ("١٥٠٠", Decimal("1500")),
        ("1,500.50", Decimal("1500.50")),
        ("۱٬۵۰۰٫۵", Decimal("1500.5")),
        ("١٢٠٫٥٠", Decimal("120.50")),
        ("\u200f۲۵۰\u200e", Decimal("250")),  # bidi marks pasted from RTL text
        ("\u2068120\u2069", Decimal("120")),
        ("+20", Decimal("20")),
        ("-20", Decimal("-20")),
        (".5", Decimal("0.5")),
    ],
)
def test_amounts_in_any_digit_set(typed: str, expected: Decimal) -> None:
    assert parse_decimal(typed) == expected


@pytest.mark.parametrize("typed", ["", "abc", "12a", "1.2.3", "1.234", "--5", "۱۲ ۳x", "½", "1e5", "NaN", "Infinity"])
def test_not_numbers(typed: str) -> None:
    with pytest.raises(NotANumber):
        parse_decimal(typed)


def test_parse_int_rejects_decimals() -> None:
    assert parse_int("-۲۰") == -20
    with pytest.raises(NotANumber):
        parse_int("2.5")


def test_to_latin_strips_invisible_marks_and_zwnj() -> None:
    assert to_latin("W7K2\u200cQF\u200f") == "W7K2QF"


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(["latin", "persian", "arabic"]))
def test_localized_digits_parse_back(number: int, digits: str) -> None:
    assert parse_int(localize_digits(str(number), digits)) == number
