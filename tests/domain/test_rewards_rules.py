"""Rewards, vouchers, expiry lots and campaigns: the pure rules."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import errors
from bot.domain.adjustments import AdjustmentTooLarge, parse_adjustment
from bot.domain.campaigns import InvalidDuration, InvalidMultiplier, parse_duration, parse_multiplier
from bot.domain.expiry import Lot, consume, due, reminder_batch, replay
from bot.domain.members import CODE_ALPHABET
from bot.domain.program import Program, ProgramError, load_program
from bot.domain.rewards import (
    Availability,
    InvalidRewardInput,
    RewardDraft,
    RewardLimitReached,
    RewardLocked,
    RewardSoldOut,
    RewardUnavailable,
    VoucherMistyped,
    availability,
    check_redeemable,
    new_voucher_code,
    parse_field,
    parse_value,
    parse_voucher_code,
    voucher_expiry,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@dataclass
class R:
    cost: int = 100
    active: bool = True
    stock: int | None = None
    per_member_limit: int | None = None
    min_tier: int = 0
    starts_at: datetime | None = None
    ends_at: datetime | None = None


# -- availability ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("reward", "tier", "balance", "taken", "state"),
    [
        (R(), 0, 100, 0, Availability.AVAILABLE),
        (R(), 0, 99, 0, Availability.UNAFFORDABLE),
        (R(active=False), 2, 10**6, 0, Availability.HIDDEN),
        (R(starts_at=NOW + timedelta(seconds=1)), 0, 100, 0, Availability.HIDDEN),
        (R(ends_at=NOW), 0, 100, 0, Availability.HIDDEN),
        (R(ends_at=NOW + timedelta(seconds=1)), 0, 100, 0, Availability.AVAILABLE),
        (R(min_tier=1), 0, 100, 0, Availability.LOCKED),
        (R(min_tier=1), 1, 100, 0, Availability.AVAILABLE),
        (R(stock=0), 0, 100, 0, Availability.SOLD_OUT),
        (R(per_member_limit=2), 0, 100, 2, Availability.LIMIT_REACHED),
        (R(per_member_limit=2), 0, 100, 1, Availability.AVAILABLE),
    ],
)
def test_availability(reward: R, tier: int, balance: int, taken: int, state: Availability) -> None:
    assert availability(reward, now=NOW, tier=tier, balance=balance, taken=taken) is state


@pytest.mark.parametrize(
    ("reward", "error"),
    [
        (None, RewardUnavailable),
        (R(active=False), RewardUnavailable),
        (R(min_tier=1), RewardLocked),
        (R(stock=0), RewardSoldOut),
        (R(per_member_limit=1), RewardLimitReached),
        (R(cost=500), errors.InsufficientPoints),
    ],
)
def test_check_redeemable_names_the_reason(reward: R | None, error: type[Exception]) -> None:
    with pytest.raises(error):
        check_redeemable(reward, now=NOW, tier=0, balance=200, taken=1, program=Program())


def test_a_locked_reward_names_its_tier() -> None:
    with pytest.raises(RewardLocked) as caught:
        check_redeemable(R(min_tier=2), now=NOW, tier=0, balance=200, taken=0, program=Program())
    assert caught.value.details["name"]["en"] == "Platinum"


def test_a_voucher_is_valid_through_its_last_day_in_merchant_time() -> None:
    tehran = ZoneInfo("Asia/Tehran")
    late = datetime(2026, 3, 10, 22, 0, tzinfo=UTC)  # already 11 March in Tehran
    ends = voucher_expiry(late, 30, tehran)
    assert ends.astimezone(tehran) == datetime(2026, 4, 11, 0, 0, tzinfo=tehran)


# -- voucher codes -----------------------------------------------------------------


def test_voucher_codes_carry_the_tag_and_parse_back_in_any_form() -> None:
    code = new_voucher_code("KQ7")
    assert code.startswith("KQ7-") and len(code) == 11
    for typed in (code, code.lower(), code.replace("-", ""), " ".join(code), code.replace("-", " - ")):
        parsed = parse_voucher_code(typed)
        assert (parsed.prefix, parsed.code) == ("KQ7", code)


def test_persian_digits_in_a_scanned_or_typed_code_are_fine() -> None:
    code = new_voucher_code("K7")
    persian = code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert parse_voucher_code(persian).code == code


@given(st.text(alphabet=CODE_ALPHABET, min_size=6, max_size=6), st.integers(0, 9), st.sampled_from(CODE_ALPHABET))
def test_one_mistyped_character_is_always_caught(body: str, position: int, replacement: str) -> None:
    prefix = "WQ"
    from bot.domain.rewards import _check_char

    code = f"{prefix}{body}{_check_char(prefix + body)}"
    chars = list(code)
    if chars[position % len(chars)] == replacement:
        return
    chars[position % len(chars)] = replacement
    with pytest.raises(VoucherMistyped):
        parse_voucher_code("".join(chars))


@given(st.text(alphabet=CODE_ALPHABET, min_size=6, max_size=6), st.integers(0, 7))
def test_two_swapped_neighbours_are_always_caught(body: str, position: int) -> None:
    from bot.domain.rewards import _check_char

    code = list(f"WQ{body}{_check_char('WQ' + body)}")
    if code[position] == code[position + 1]:
        return
    code[position], code[position + 1] = code[position + 1], code[position]
    with pytest.raises(VoucherMistyped):
        parse_voucher_code("".join(code))


@pytest.mark.parametrize("typed", ["", "W7K2QF", "hello", "KQ7-2F9XAM", "KQ7-2F9XAM3X", "KQ0-2F9XAM3", "😀" * 11])
def test_things_that_are_not_voucher_codes(typed: str) -> None:
    with pytest.raises(VoucherMistyped):
        parse_voucher_code(typed)


# -- the owner's input -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "typed", "value"),
    [("cost", "۱۵۰", 150), ("cost", "١٢٠", 120), ("stock", "0", 0), ("limit", "2", 2), ("valid_days", "30", 30),
     ("name", "  Cinnamon roll ", "Cinnamon roll")],
)
def test_fields_accept_any_digits(field: str, typed: str, value: object) -> None:
    assert parse_field(field, typed) == value


@pytest.mark.parametrize(
    ("field", "typed"),
    [("cost", "0"), ("cost", "-5"), ("cost", "abc"), ("cost", "1.5"), ("cost", "99999999999"), ("stock", "-1"),
     ("limit", "0"), ("valid_days", "0"), ("valid_days", "5000"), ("name", ""), ("name", "x" * 65),
     ("description", "y" * 301)],
)
def test_fields_refuse_nonsense(field: str, typed: str) -> None:
    with pytest.raises(InvalidRewardInput):
        parse_field(field, typed)


def test_values_per_kind() -> None:
    assert parse_value("۱۰", "percent") == Decimal(10)
    assert parse_value("12.50", "amount") == Decimal("12.50")
    for bad, kind in (("0", "percent"), ("101", "percent"), ("x", "amount"), ("-3", "amount")):
        with pytest.raises(InvalidRewardInput):
            parse_value(bad, kind)


def test_a_draft_is_checked_as_a_whole() -> None:
    program = Program()
    good = {"name": {"en": "Mug"}, "cost": 100, "kind": "discount_percent", "value": "15", "min_tier": 1}
    draft = RewardDraft.from_data(good, program)
    assert (draft.value, draft.valid_days, draft.stock) == (Decimal(15), 30, None)
    for bad in ({**good, "name": {}}, {**good, "kind": "teleport"}, {**good, "value": None}, {**good, "min_tier": 9}):
        with pytest.raises(InvalidRewardInput):
            RewardDraft.from_data(bad, program)
    assert RewardDraft.from_data({**good, "kind": "gift"}, program).value is None  # a gift has no value


# -- expiry ------------------------------------------------------------------------------


def lot(entry: int, days: int, points: int) -> Lot:
    return Lot(entry, NOW + timedelta(days=days), points)


def test_spending_takes_the_soonest_expiring_points_first() -> None:
    lots = [lot(2, 20, 50), lot(1, 10, 30), lot(3, 30, 40)]
    assert consume(lots, 60) == [(1, 30), (2, 30)]
    assert [(x.entry_id, x.remaining) for x in lots] == [(2, 20), (3, 40)]
    assert consume(lots, 1000) == [(2, 20), (3, 40)] and lots == []


def test_replay_and_due() -> None:
    entries = [
        (1, 100, NOW + timedelta(days=10)),  # earned
        (2, 50, None),  # an adjustment: never expires
        (3, -120, None),  # spent: all of lot 1, then 20 of the non-expiring 50
        (4, 80, NOW + timedelta(days=40)),
        (5, -10, None),
    ]
    lots = replay(entries)
    assert [(x.entry_id, x.remaining) for x in lots] == [(4, 70)]
    assert due(lots, NOW + timedelta(days=39)) == 0 and due(lots, NOW + timedelta(days=40)) == 70


def test_reminders_batch_expiry_dates_in_blocks() -> None:
    start = date(2027, 1, 1)
    batches = {reminder_batch(start + timedelta(days=i), 14) for i in range(28)}
    assert 2 <= len(batches) <= 3


# -- campaigns and adjustments ---------------------------------------------------------------


@pytest.mark.parametrize(("typed", "value"), [("2", Decimal(2)), ("1.5", Decimal("1.5")), ("×۳", Decimal(3)), ("x2", Decimal(2))])
def test_multipliers(typed: str, value: Decimal) -> None:
    assert parse_multiplier(typed, Decimal(5)) == value


@pytest.mark.parametrize("typed", ["1", "0.5", "6", "two", "-2", "2.555"])
def test_bad_multipliers(typed: str) -> None:
    with pytest.raises(InvalidMultiplier):
        parse_multiplier(typed, Decimal(5))


@pytest.mark.parametrize(
    ("typed", "length"),
    [("48h", timedelta(hours=48)), ("2d", timedelta(days=2)), ("1w", timedelta(weeks=1)), ("90m", timedelta(minutes=90)),
     ("۴۸ ساعت", timedelta(hours=48)), ("٣ أيام", timedelta(days=3)), ("3 days", timedelta(days=3))],
)
def test_durations_in_three_languages(typed: str, length: timedelta) -> None:
    assert parse_duration(typed, 90) == length


@pytest.mark.parametrize("typed", ["48", "h", "30m", "91d", "2 fortnights", "1.5h", "0h"])
def test_bad_durations(typed: str) -> None:
    with pytest.raises(InvalidDuration):
        parse_duration(typed, 90)


def test_adjustments() -> None:
    assert parse_adjustment("+50") == 50 and parse_adjustment("-۲۰") == -20 and parse_adjustment("٣٠") == 30
    for bad in ("0", "abc", "1.5", ""):
        with pytest.raises(errors.InvalidPoints):
            parse_adjustment(bad)
    with pytest.raises(AdjustmentTooLarge):
        parse_adjustment("10000000")


# -- the program file ------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "program.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_custom_reward_kinds_need_no_code(tmp_path: Path) -> None:
    program = load_program(write(tmp_path, """
[reward_kinds.birthday_cake]
name = { en = "Birthday cake", fa = "کیک تولد" }
[reward_kinds.cashback]
name = { en = "Cashback" }
value = "amount"
[[rewards]]
id = "cake"
name = { en = "A cake" }
cost = 500
kind = "birthday_cake"
available_from = 2026-01-01
available_until = 2026-12-31
[vouchers]
prefix = "CAF"
[tiering]
hold_months = 6
[expiry]
reminder_days = 7
"""))
    assert program.kind_value("birthday_cake") == "none" and program.kind_value("cashback") == "amount"
    assert "birthday_cake" in program.kinds and program.vouchers.prefix == "CAF"
    assert program.rewards[0].available_until == date(2026, 12, 31)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[rewards]]\nid='x'\nname={en='A'}\ncost=5\nkind='cashback'\n", "rewards[0].kind: unknown kind 'cashback'"),
        ("[reward_kinds.gift]\nname={en='G'}\n", "reward_kinds.gift"),
        ("[[rewards]]\nid='x'\nname={en='A'}\ncost=5\nkind='discount_amount'\n", "rewards[0].value"),
        ("[[rewards]]\nid='x'\nname={en='A'}\ncost=5\nkind='gift'\nvalue=3\n", "rewards[0].value"),
        ("[vouchers]\nprefix='K0'\n", "vouchers.prefix"),
        ("[tiering]\nhold_months=0\n", "tiering.hold_months"),
        (
            "[[rewards]]\nid='x'\nname={en='A'}\ncost=5\navailable_from=2026-02-01\navailable_until=2026-01-01\n",
            "available_until",
        ),
    ],
)
def test_invalid_reward_settings_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ProgramError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_program(write(tmp_path, text))
