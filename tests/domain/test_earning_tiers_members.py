from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import errors
from bot.domain.earning import parse_purchase_amount, points_for_purchase
from bot.domain.ledger import add_months
from bot.domain.members import CODE_ALPHABET, new_member_code, parse_member_ref
from bot.domain.program import Earning, Program
from bot.domain.tiers import standing


def test_points_follow_rate_multiplier_rounding_and_cap() -> None:
    earning = Earning(points_per_unit=Decimal("1.5"))
    assert points_for_purchase(Decimal("10"), earning) == 15
    assert points_for_purchase(Decimal("10.99"), earning) == 16  # 16.485 rounded down
    assert points_for_purchase(Decimal("10"), earning, Decimal("1.25")) == 18  # 18.75 down
    assert points_for_purchase(Decimal("10"), Earning(rounding="up")) == 10
    assert points_for_purchase(Decimal("0.5"), Earning(rounding="nearest")) == 1
    assert points_for_purchase(Decimal("1000"), Earning(max_points_per_purchase=300)) == 300


@pytest.mark.parametrize("typed", ["0", "-5", "abc", "12.345", ""])
def test_bad_amounts_are_refused(typed: str) -> None:
    with pytest.raises(errors.InvalidAmount):
        parse_purchase_amount(typed, Earning())


def test_absurd_amounts_are_refused() -> None:
    with pytest.raises(errors.AmountTooLarge):
        parse_purchase_amount("۱۰۰۰۰۰۰۰۰۱", Earning())
    assert parse_purchase_amount("١٠٠٠٠٠٠٠٠", Earning()) == Decimal(100_000_000)


def test_tier_standing_and_progress() -> None:
    tiers = Program().tiers
    assert standing(0, tiers).index == 0
    gold = standing(500, tiers)
    assert gold.index == 1 and gold.points_to_next == 1000 and gold.progress == 0.0
    halfway = standing(1000, tiers)
    assert halfway.progress == pytest.approx(0.5)
    top = standing(99999, tiers)
    assert top.next_tier is None and top.progress == 1.0
    # A stored tier above what the window's earnings reach stays until the period ends.
    assert standing(10, tiers, current=1).index == 1


def test_member_codes_are_short_and_unambiguous() -> None:
    codes = {new_member_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert len(code) == 6 and set(code) <= set(CODE_ALPHABET)
    assert not set("01IOLUV") & set(CODE_ALPHABET)


@pytest.mark.parametrize(
    ("typed", "kind", "value"),
    [
        ("w7k2qf", "code", "W7K2QF"),
        ("@Sara_T", "username", "sara_t"),
        ("۰۹۱۲۱۲۳۴۵۶۷", "phone", "09121234567"),
        ("+98 912 123 4567", "phone", "989121234567"),
        ("00989121234567", "phone", "989121234567"),
        ("123456789", "telegram_id", "123456789"),
        ("1003", "telegram_id", "1003"),
        ("\u2068W7K2QF\u2069", "code", "W7K2QF"),
    ],
)
def test_member_references(typed: str, kind: str, value: str) -> None:
    ref = parse_member_ref(typed)
    assert ref is not None and (ref.kind, ref.value) == (kind, value)


@pytest.mark.parametrize("typed", ["", "hello", "@ab", "W7K2Q", "+123", "0123"])
def test_nonsense_is_no_member_reference(typed: str) -> None:
    assert parse_member_ref(typed) is None


def test_add_months_clamps_to_month_end() -> None:
    moment = datetime(2025, 1, 31, 10, tzinfo=UTC)
    assert add_months(moment, 1).day == 28
    assert add_months(datetime(2024, 1, 31, tzinfo=UTC), 1).day == 29
    assert add_months(moment, -13) == datetime(2023, 12, 31, 10, tzinfo=UTC)


@given(st.integers(min_value=-240, max_value=240))
def test_add_months_round_trip_on_early_days(months: int) -> None:
    start = datetime(2026, 5, 17, tzinfo=UTC)
    assert add_months(add_months(start, months), -months) == start
