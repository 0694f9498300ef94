"""How many points a purchase earns (SPEC §4 `/award`)."""
from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from bot.domain import errors
from bot.domain.digits import NotANumber, parse_decimal
from bot.domain.program import Earning

_ROUNDING = {"down": ROUND_FLOOR, "nearest": ROUND_HALF_UP, "up": ROUND_CEILING}


def parse_purchase_amount(text: str, earning: Earning) -> Decimal:
    """A purchase amount typed by a cashier, validated against the program.

    Raises InvalidAmount for anything that is not a positive number with at
    most two decimals, AmountTooLarge beyond the program's cap.
    """
    try:
        amount = parse_decimal(text)
    except NotANumber:
        raise errors.InvalidAmount(text=text) from None
    if amount <= 0 or amount < earning.min_purchase:
        raise errors.InvalidAmount(text=text, minimum=earning.min_purchase)
    if amount > earning.max_purchase:
        raise errors.AmountTooLarge(text=text, maximum=earning.max_purchase)
    return amount


def points_for_purchase(amount: Decimal, earning: Earning, multiplier: Decimal = Decimal(1)) -> int:
    """Points for `amount` currency units at the program rate times `multiplier`
    (tier multiplier × campaign multiplier), rounded per the program and capped."""
    raw = amount * earning.points_per_unit * multiplier
    points = int(raw.quantize(Decimal(1), rounding=_ROUNDING[earning.rounding]))
    if earning.max_points_per_purchase is not None:
        points = min(points, earning.max_points_per_purchase)
    return max(points, 0)
