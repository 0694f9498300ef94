"""Campaigns (SPEC §4 `/campaign <multiplier> <duration>`): a time-limited point multiplier."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from bot.domain.digits import NotANumber, parse_decimal, to_latin
from bot.domain.errors import DomainError


class InvalidMultiplier(DomainError):
    code = "invalid_multiplier"


class InvalidDuration(DomainError):
    code = "invalid_duration"


class NoCampaign(DomainError):
    code = "no_campaign"


MIN_DURATION = timedelta(hours=1)

# Units as a cashier types them, in English, Persian and Arabic.
_UNITS: dict[str, timedelta] = {}
for _words, _unit in (
    (("m", "min", "mins", "minute", "minutes", "دقیقه", "دقيقة", "دقائق"), timedelta(minutes=1)),
    (("h", "hr", "hrs", "hour", "hours", "ساعت", "ساعة", "ساعات"), timedelta(hours=1)),
    (("d", "day", "days", "روز", "يوم", "أيام", "ايام", "يوما", "يومًا"), timedelta(days=1)),
    (("w", "wk", "week", "weeks", "هفته", "أسبوع", "اسبوع", "أسابيع", "اسابيع"), timedelta(weeks=1)),
):
    for _word in _words:
        _UNITS[_word] = _unit

_DURATION = re.compile(r"^(\d{1,6})\s*(\S+)$")


def parse_multiplier(text: str, maximum: Decimal) -> Decimal:
    """`2`, `1.5`, `۲`, `×2`, `x1.5`: above 1, at most `maximum`, two decimals at most."""
    cleaned = to_latin(text).lower().lstrip("x×*")
    try:
        value = parse_decimal(cleaned)
    except NotANumber:
        raise InvalidMultiplier(text=text, maximum=maximum) from None
    if not Decimal(1) < value <= maximum:
        raise InvalidMultiplier(text=text, maximum=maximum)
    return value.normalize() if value == value.to_integral_value() else value


def parse_duration(text: str, max_days: int) -> timedelta:
    """`48h`, `2d`, `1w`, `90m`, `۴۸ ساعت`, `٣ أيام`: between one hour and `max_days` days."""
    match = _DURATION.match(to_latin(text).lower().strip())
    unit = _UNITS.get(match.group(2)) if match else None
    if match is None or unit is None:
        raise InvalidDuration(text=text, max_days=max_days)
    duration = int(match.group(1)) * unit
    if not MIN_DURATION <= duration <= timedelta(days=max_days):
        raise InvalidDuration(text=text, max_days=max_days)
    return duration
