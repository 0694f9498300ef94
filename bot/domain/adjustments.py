"""Manual corrections by an owner (SPEC §4 `/adjust <member> <±points> <reason>`)."""
from __future__ import annotations

from bot.domain.digits import NotANumber, parse_int
from bot.domain.errors import DomainError, InvalidPoints

ADJUST_LIMIT = 1_000_000  # points in one adjustment, either way
REASON_LIMIT = 200


class AdjustmentTooLarge(DomainError):
    code = "adjustment_too_large"


class ReasonRequired(DomainError):
    code = "reason_required"


def parse_adjustment(text: str) -> int:
    """`+50`, `-20`, `۳۰`, `-٢٠`: a whole number of points, not zero, within ADJUST_LIMIT."""
    try:
        points = parse_int(text)
    except NotANumber:
        raise InvalidPoints(text=text) from None
    if points == 0:
        raise InvalidPoints(text=text)
    if abs(points) > ADJUST_LIMIT:
        raise AdjustmentTooLarge(text=text, maximum=ADJUST_LIMIT)
    return points
