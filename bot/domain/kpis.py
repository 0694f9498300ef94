"""The owner's view of the program (SPEC §4 `/stats`): periods and KPI formulas.

Storage counts; this module turns the counts into the KPIs the README
defines. The period P is the last N days up to now, the previous period Q
the N days before it:

- members: enrolled by now, erased accounts excluded; new: joined during P;
- active: made at least one purchase during P (a purchase is an `/award`
  that earned points);
- repeat-purchase rate: of the members active in P, the share with two or
  more purchases in P;
- retention: of the members active in Q, the share active again in P;
  churn is its complement;
- participation: of all members, the share who bought or redeemed in P;
- NPS and CSAT: answers given during P (see `bot.domain.surveys`);
- points issued: every credit in P except refunds of unused vouchers;
  redeemed: points spent on rewards in P; expired: points that expired in P;
  outstanding (the liability): the sum of all balances now;
- referrals: friends who joined through a link in P, and referred friends
  whose first qualifying purchase was in P (conversions).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal

from bot.domain.delivery import DeliveryStatus
from bot.domain.digits import NotANumber, parse_int
from bot.domain.errors import DomainError
from bot.domain.surveys import CsatResult, NpsResult, percent

DEFAULT_DAYS = 30
MIN_DAYS = 1
MAX_DAYS = 3650
MAX_BUCKETS = 12


class InvalidPeriod(DomainError):
    code = "invalid_period"


def parse_days(text: str | None) -> int:
    """`/stats [days]`: empty means 30; any digit set; 1 to 3650."""
    if text is None or not text.strip():
        return DEFAULT_DAYS
    words = text.split()
    try:
        if len(words) != 1:
            raise NotANumber(text)
        days = parse_int(words[0])
    except NotANumber:
        raise InvalidPeriod(text=text, minimum=MIN_DAYS, maximum=MAX_DAYS) from None
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise InvalidPeriod(text=text, minimum=MIN_DAYS, maximum=MAX_DAYS)
    return days


@dataclass(frozen=True)
class Period:
    start: datetime  # inclusive
    end: datetime  # exclusive

    @property
    def days(self) -> int:
        return max(1, round((self.end - self.start) / timedelta(days=1)))

    def last_day(self, zone: tzinfo) -> date:
        """The calendar day (in `zone`) of the period's last instant: what a chart bar is labelled with."""
        return (self.end - _INCLUSIVE).astimezone(zone).date()


# Periods end just after `now`, so what happened at this very moment counts.
_INCLUSIVE = timedelta(microseconds=1)


def periods(now: datetime, days: int) -> tuple[Period, Period]:
    """(P, Q): the last `days` days up to and including `now`, and the `days` before them."""
    span = timedelta(days=days)
    end = now + _INCLUSIVE
    return Period(end - span, end), Period(end - 2 * span, end - span)


def buckets(period: Period, zone: tzinfo = UTC, max_buckets: int = MAX_BUCKETS) -> list[Period]:
    """Calendar-day buckets in the merchant's `zone` that tile the period, at most `max_buckets`.

    Boundaries fall on local midnights, so the last bucket is *today* (midnight
    to now) and a sign-up shows under the day it happened on; the first bucket
    is the part of the period's first day that lies inside it. A bucket spans
    several days when the period has more days than `max_buckets`.
    """
    first = period.start.astimezone(zone).date()
    last = period.last_day(zone)
    days = (last - first).days + 1
    width = math.ceil(days / max_buckets)
    count = math.ceil(days / width)

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=zone).astimezone(period.end.tzinfo)

    result = []
    for i in range(count):
        end_day = last - timedelta(days=width * (count - 1 - i))  # the bucket's last day
        start = max(period.start, midnight(end_day - timedelta(days=width - 1)))
        result.append(Period(start, min(period.end, midnight(end_day + timedelta(days=1)))))
    return result


@dataclass(frozen=True)
class Activity:
    members: int
    new_members: int
    active: int
    repeat_buyers: int  # active in P with two or more purchases in P
    active_previous: int  # active in Q
    retained: int  # active in Q and in P
    participants: int  # bought or redeemed in P


@dataclass(frozen=True)
class PointsFlow:
    issued: int
    redeemed: int
    expired: int
    outstanding: int


@dataclass(frozen=True)
class Referrals:
    joined: int  # friends who joined through a link in P
    converted: int  # referred friends whose first qualifying purchase was in P
    rewarded: int  # of those, how many paid the referrer (the rest: monthly cap, circular, erased)


@dataclass(frozen=True)
class RewardCount:
    name: dict[str, str]  # per language
    issued: int  # vouchers issued in P
    used: int  # of those, already used at the counter


@dataclass(frozen=True)
class EarningStats:
    """Stamp cards, earning actions and recognition in P (SPEC §11)."""

    stamps_given: int = 0
    cards_completed: int = 0  # each one a voucher
    stamps_lapsed: int = 0
    stamps_on_cards: int = 0  # now, on every member's current card
    actions: dict[str, tuple[int, int]] = field(default_factory=dict)  # action id: (times done, points)
    milestones: int = 0
    tier_gifts: int = 0


@dataclass(frozen=True)
class SeriesPoint:
    period: Period
    active: int
    new_members: int


@dataclass(frozen=True)
class ProgramStats:
    period: Period
    previous: Period
    activity: Activity
    points: PointsFlow
    nps: NpsResult
    csat: CsatResult
    referrals: Referrals
    messages: dict[DeliveryStatus, int] = field(default_factory=dict)  # outbox rows created in P, by status
    series: list[SeriesPoint] = field(default_factory=list)
    top_rewards: list[RewardCount] = field(default_factory=list)  # most redeemed first
    earning: EarningStats = field(default_factory=EarningStats)

    @property
    def active_share(self) -> Decimal | None:
        return percent(self.activity.active, self.activity.members)

    @property
    def repeat_rate(self) -> Decimal | None:
        return percent(self.activity.repeat_buyers, self.activity.active)

    @property
    def retention(self) -> Decimal | None:
        return percent(self.activity.retained, self.activity.active_previous)

    @property
    def churn(self) -> Decimal | None:
        retention = self.retention
        return None if retention is None else 100 - retention

    @property
    def participation(self) -> Decimal | None:
        return percent(self.activity.participants, self.activity.members)

    @property
    def referral_conversion(self) -> Decimal | None:
        """Conversions in P per friend who joined in P (a rate of the period, not of a cohort)."""
        return percent(self.referrals.converted, self.referrals.joined)

    @property
    def redemption_ratio(self) -> Decimal | None:
        """Points redeemed in P per point issued in P."""
        return percent(self.points.redeemed, self.points.issued)
