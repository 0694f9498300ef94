"""Ledger rules (SPEC §7): entry kinds, what counts toward tiers, when credits expire."""
from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass
from datetime import datetime

from bot.domain.program import Program


class Kind(enum.StrEnum):
    PURCHASE = "purchase"
    SIGNUP = "signup"
    PROFILE = "profile"
    BIRTHDAY = "birthday"
    REFERRAL = "referral"
    SURVEY = "survey"
    WINBACK = "winback"
    ADJUST = "adjust"
    REDEEM = "redeem"
    REFUND = "refund"  # points of an unused, expired voucher coming back
    EXPIRE = "expire"
    REVERSAL = "reversal"  # points of a refunded purchase taken back (SPEC §9.1)
    ACTION = "action"  # an earning action: joining the channel, an event check-in, …
    MILESTONE = "milestone"  # the N-th purchase, a membership anniversary
    TIER_BONUS = "tier_bonus"  # a tier's entry points
    GOODWILL = "goodwill"  # staff making up for a bad experience (service recovery)
    SURPRISE = "surprise"  # an owner's /surprise: a gift, not an earning


# Points a member *earned*: they count toward tiers and they expire under the
# program's policy. Manual adjustments and refunds are corrections, not
# earnings, so they neither lift a tier nor expire. A tier's entry points are
# a consequence of the tier, not a way into it (counting them could lift the
# member again, and again), so they are not earnings either.
EARNING_KINDS = frozenset(
    {
        Kind.PURCHASE, Kind.SIGNUP, Kind.PROFILE, Kind.BIRTHDAY, Kind.REFERRAL, Kind.SURVEY, Kind.WINBACK,
        Kind.ACTION, Kind.MILESTONE,
    }
)


# Debits that undo earnings: a refunded purchase no longer counts toward the tier.
TIER_CORRECTION_KINDS = frozenset({Kind.REVERSAL})


class PostOutcome(enum.Enum):
    POSTED = "posted"
    DUPLICATE = "duplicate"  # the idempotency key was used before: nothing changed
    INSUFFICIENT = "insufficient"  # it would make the balance negative: the caller rolls back


@dataclass(frozen=True)
class PostResult:
    outcome: PostOutcome
    entry_id: int | None = None


def add_months(moment: datetime, months: int) -> datetime:
    """Same day `months` later, clamped to the month's end (31 Jan + 1 → 28/29 Feb)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def expiry_for(kind: str, earned_at: datetime, program: Program) -> datetime | None:
    if program.expiry.months == 0 or kind not in EARNING_KINDS:
        return None
    return add_months(earned_at, program.expiry.months)


def tier_window_start(now: datetime, program: Program) -> datetime | None:
    """Start of the rolling window whose earnings decide the tier (None = lifetime)."""
    if program.tiering.window_months == 0:
        return None
    return add_months(now, -program.tiering.window_months)


def command_key(action: str, chat_id: int, message_id: int) -> str:
    """Idempotency key of a typed command: the same message never acts twice (SPEC §7)."""
    return f"{action}:{chat_id}:{message_id}"
