"""Service recovery and surprise rewards (SPEC §11): budgets, actions, the numbers /stats shows.

A recovery case opens with the alert about an unhappy customer. The first
staff member to act on it owns it (the others see who); each action
(apologise, goodwill points, a voucher, resolved) happens at most once per
case. Goodwill points and recovery vouchers (at their catalog cost) come
out of `[recovery] budget_points` per merchant month; surprises out of
`[surprise] budget_points`.
"""
from __future__ import annotations

import enum
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from bot.domain.broadcasts import LANGUAGES, MAX_INACTIVE_DAYS
from bot.domain.digits import NotANumber, parse_int, to_latin
from bot.domain.errors import DomainError
from bot.domain.surveys import percent

RECOVERY_BUDGET, SURPRISE_BUDGET = "recovery", "surprise"


class Action(enum.StrEnum):
    APOLOGY = "a"
    GOODWILL = "g"
    VOUCHER = "v"
    RESOLVED = "r"


def budget_period(day: date) -> str:
    """The merchant month a budget counts in, e.g. "2026-03"."""
    return f"{day.year:04d}-{day.month:02d}"


def median_delay(delays: Sequence[timedelta]) -> timedelta | None:
    if not delays:
        return None
    return timedelta(seconds=statistics.median(d.total_seconds() for d in delays))


@dataclass(frozen=True)
class RecoveryStats:
    alerts: int = 0  # cases opened in the period
    handled: int = 0  # of them, acted on by staff
    resolved: int = 0  # of them, marked resolved
    median_first_action: timedelta | None = None
    asked: int = 0  # members asked "did we make it right?" (cases of the period)
    recovered: int = 0  # of them, answered yes
    answered: int = 0  # of them, answered at all
    goodwill_points: int = 0
    surprises: int = 0  # surprise gifts given in the period
    surprise_points: int = 0

    @property
    def recovered_share(self) -> Decimal | None:
        """Percent of yes among the answers to "did we make it right?" (None before any answer)."""
        return percent(self.recovered, self.answered)

    @property
    def resolved_share(self) -> Decimal | None:
        """Percent of the period's alerts marked resolved."""
        return percent(self.resolved, self.alerts)


def followup_due(handled_at: datetime | None, days: int, moment: datetime) -> bool:
    return handled_at is not None and moment - handled_at >= timedelta(days=days)


# -- errors -----------------------------------------------------------------------------
class AlreadyHandled(DomainError):
    """Another staff member acted first; `by` is their name."""

    code = "recovery_taken"


class ActionDone(DomainError):
    code = "recovery_action_done"


class CaseResolved(DomainError):
    code = "recovery_resolved"


class BudgetExhausted(DomainError):
    code = "budget_exhausted"


class GoodwillOff(DomainError):
    code = "goodwill_off"


class FollowupAnswered(DomainError):
    code = "followup_answered"


class UnknownSegment(DomainError):
    code = "unknown_segment"


class EmptySegment(DomainError):
    code = "empty_segment"


class CountTooLarge(DomainError):
    code = "surprise_count_too_large"


class InvalidCount(DomainError):
    code = "invalid_surprise_count"


class UnknownGift(DomainError):
    code = "unknown_gift"


# -- /surprise arguments ----------------------------------------------------------------
def parse_segment(text: str, tier_names: Sequence[dict[str, str]]) -> dict[str, object]:
    """A /surprise segment as typed: `all`, `ar` / `fa` / `en`, `tier-N` (1 = the first
    tier) or a tier's name, `inactive-N` (days without a purchase), `never` (no purchase yet).

    Returns the broadcast `Segment` fields; raises UnknownSegment.
    """
    word = to_latin(text.strip()).lower()
    if word == "all":
        return {"kind": "all"}
    if word == "never":
        return {"kind": "never"}
    if word in LANGUAGES:
        return {"kind": "language", "language": word}
    for prefix, kind in (("tier-", "tier"), ("inactive-", "inactive")):
        if word.startswith(prefix):
            try:
                number = parse_int(word[len(prefix):])
            except NotANumber:
                raise UnknownSegment(text=text) from None
            if kind == "tier" and 1 <= number <= len(tier_names):
                return {"kind": "tier", "tier": number - 1}
            if kind == "inactive" and 1 <= number <= MAX_INACTIVE_DAYS:
                return {"kind": "inactive", "days": number}
            raise UnknownSegment(text=text)
    for index, names in enumerate(tier_names):
        if word in {to_latin(name).strip().lower() for name in names.values()}:
            return {"kind": "tier", "tier": index}
    raise UnknownSegment(text=text)


def parse_count(text: str, maximum: int) -> int:
    try:
        count = parse_int(text)
    except NotANumber:
        raise InvalidCount(text=text, maximum=maximum) from None
    if not 1 <= count <= maximum:
        raise InvalidCount(text=text, maximum=maximum)
    return count


MAX_GIFT_POINTS = 1_000_000


def parse_gift(text: str) -> int | str:
    """Points (a whole number in any digits) or a reward: its program id, or `#N` for catalog row N."""
    try:
        points = parse_int(text)
    except NotANumber:
        word = text.strip()
        if not word or len(word) > 33:
            raise UnknownGift(text=text) from None
        return word
    if not 1 <= points <= MAX_GIFT_POINTS:
        raise UnknownGift(text=text)
    return points
