"""How long a broadcast takes to go out, told to the owner before they confirm (issue 12 item 4).

The outbox sends `BROADCAST_RATE` messages a second overall (at most
Telegram's free 30 without `PAID_BROADCAST`, up to 1000 with it) and one
message per chat per second, which a broadcast (one message per member)
never reaches. So the time is recipients ÷ rate, rounded for a person:
under a minute, whole minutes up to two hours, then whole hours. Quiet hours
and "top tiers first" can make it later; the estimate is the sending itself.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from bot.domain.broadcasts import FREE_PER_SECOND

FREE_RATE = float(FREE_PER_SECOND)  # messages per second without paid broadcasts
PAID_RATE = 1000.0  # with `allow_paid_broadcast`


def effective_rate(rate: float, paid: bool) -> float:
    """The messages per second the outbox really sends at."""
    return max(0.001, min(rate, PAID_RATE if paid else FREE_RATE))


@dataclass(frozen=True)
class SendTime:
    unit: Literal["seconds", "minutes", "hours"]  # "seconds": under a minute
    count: int  # of `unit` (for "seconds", the seconds rounded up)


def send_time(recipients: int, rate: float, paid: bool) -> SendTime:
    """About how long `recipients` messages take at BROADCAST_RATE `rate` (PAID_BROADCAST `paid`)."""
    seconds = max(0, recipients) / effective_rate(rate, paid)
    if seconds < 60:
        return SendTime("seconds", math.ceil(seconds))
    minutes = max(1, round(seconds / 60))
    if minutes < 120:
        return SendTime("minutes", minutes)
    return SendTime("hours", round(seconds / 3600))
