"""Milestones (SPEC §11 `[[milestones]]`) and tier entry rewards: recognition given once.

A purchase milestone is due once the member's purchases reach its count; an
anniversary milestone on the day the membership turns N years old in
merchant time. Each is given once per member (a grant row and the ledger
key make sure of it). A tier's entry reward is given on promotion into it,
for every tier climbed at once, but only once per tier window: a member
demoted and promoted again within that window gets nothing twice.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from bot.domain.ledger import tier_window_start
from bot.domain.program import Milestone, Program

CATCH_UP_DAYS = 7  # anniversaries missed by a stopped bot are given up to this late


def purchase_milestones_due(milestones: Iterable[Milestone], purchases: int) -> list[Milestone]:
    """Purchase milestones whose count `purchases` has reached (the caller skips those given)."""
    return [m for m in milestones if m.purchases is not None and purchases >= m.purchases]


def anniversary_join_days(today: date, years: int) -> list[date]:
    """The joining dates whose `years`-th anniversary is `today`.

    Someone who joined on 29 February celebrates on 28 February in a year
    without one.
    """
    year = today.year - years
    if year < 1:
        return []
    days: list[date] = []
    try:
        days.append(today.replace(year=year))
    except ValueError:  # 29 February in a year without one: celebrated on the 28th
        return []
    if (today.month, today.day) == (2, 28) and _is_leap(year) and not _is_leap(today.year):
        days.append(date(year, 2, 29))
    return days


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def recent_days(today: date, catch_up: int = CATCH_UP_DAYS) -> list[date]:
    """Today and the days before it that a job run today still covers, oldest first."""
    return [today - timedelta(days=back) for back in range(catch_up - 1, -1, -1)]


def entry_tiers(old: int, new: int) -> range:
    """The tiers a promotion from `old` to `new` enters, skipped ones included."""
    return range(old + 1, new + 1)


def entry_gift(program: Program, tier: int) -> tuple[int, str | None]:
    """(points, reward id) a tier gives on entry."""
    spec = program.tiers[tier]
    return spec.entry_points, spec.entry_reward


def entry_window_start(now: datetime, program: Program) -> datetime | None:
    """Entry rewards given after this moment count for "once per tier window" (None: ever)."""
    return tier_window_start(now, program)
