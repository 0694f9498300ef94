"""Orders from the shop's systems (SPEC §9.1–9.2): purchases keyed by order id,
refunds that take back what that part of the order earned.

A purchase is keyed by its source (`api`, `salla`, `zid`, `woocommerce`,
`shopify`) and the shop's order id: the same order again changes nothing,
the same id with another member or amount is a conflict. Refunds are keyed
by their own id; together they never exceed the order, and the points they
take back are the order's points in proportion to the amount refunded,
computed on the running total so that rounding never drifts (the refund
that completes the order takes back exactly what is left).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from bot.domain import errors
from bot.domain.digits import NotANumber, parse_decimal

SOURCES = ("api", "salla", "zid", "woocommerce", "shopify")
REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,63}$")


class OrderConflict(errors.DomainError):
    """The order id was used before with another member or amount."""

    code = "order_conflict"


class OrderNotFound(errors.DomainError):
    code = "order_not_found"


class RefundConflict(errors.DomainError):
    """The refund id was used before for another order or amount."""

    code = "refund_conflict"


class RefundExceedsOrder(errors.DomainError):
    code = "refund_exceeds_order"


class InvalidReference(errors.DomainError):
    """An order or refund id that is empty, too long or has odd characters."""

    code = "invalid_reference"


def check_reference(value: str, *, field: str) -> str:
    text = value.strip()
    if not REFERENCE.match(text):
        raise InvalidReference(field=field, value=value[:70])
    return text


def parse_refund_amount(text: str) -> Decimal:
    """A refund amount: a positive decimal with at most two places, any digits."""
    try:
        amount = parse_decimal(text)
    except NotANumber:
        raise errors.InvalidAmount(text=text) from None
    if amount <= 0:
        raise errors.InvalidAmount(text=text)
    return amount


def refund_share(*, order_amount: Decimal, order_points: int, refunded_before: Decimal, amount: Decimal) -> int:
    """Points due back for refunding `amount` after `refunded_before` was refunded.

    The share of points is computed on the cumulative refunded amount, minus
    what earlier refunds already took: two refunds of half an order take back
    exactly the order's points between them, whatever the rounding.
    """
    if order_amount <= 0 or order_points <= 0:
        return 0
    after = refunded_before + amount
    if after >= order_amount:
        return order_points - _share(order_points, refunded_before, order_amount)
    return _share(order_points, after, order_amount) - _share(order_points, refunded_before, order_amount)


def _share(points: int, part: Decimal, whole: Decimal) -> int:
    return int((Decimal(points) * part / whole).quantize(Decimal(1), rounding=ROUND_HALF_UP))


class InvalidPhone(errors.DomainError):
    """A member given as a phone number that is no valid number (or lacks its country code)."""

    code = "invalid_phone"
