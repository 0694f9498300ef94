"""Who gets a scheduled message: birthdays, win-back, broadcast segments.

Each selection is one indexed query: birthdays use
`ix_members_birthday (birth_calendar, birth_month, birth_day)`, inactivity the
indexes on `last_purchase_at` and `joined_at`. Nothing is filtered in Python.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LedgerEntry, Member
from storage.sql import affected


def birthday_condition(keys: Iterable[Any]) -> Any:
    """OR of (calendar, month, day IN …) terms: each one a range of the birthday index.

    `keys` have `calendar`, `month` and `days` (`bot.domain.calendars.Celebration`).
    """
    terms = []
    for key in keys:
        days = sorted(key.days)
        if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
            day = Member.birth_day.between(days[0], days[-1])  # a run of days: one index range
        else:
            day = Member.birth_day.in_(days)
        terms.append(and_(Member.birth_calendar == key.calendar, Member.birth_month == key.month, day))
    return or_(*terms) if terms else Member.id.is_(None)


def reachable() -> Any:
    """Members the bot can write to at all: joined through Telegram and not erased."""
    return and_(Member.telegram_id.is_not(None), Member.forgotten_at.is_(None))


def birthday_statement(keys: Iterable[Any]) -> Select[*tuple[Any, ...]]:
    """The birthday selection (also what `benchmarks/bench_birthdays.py` EXPLAINs)."""
    return (
        select(
            Member.id,
            Member.telegram_id,
            Member.first_name,
            Member.birth_calendar,
            Member.birth_year,
            Member.birth_month,
            Member.birth_day,
        )
        .where(birthday_condition(keys), reachable())
        .order_by(Member.id)
    )


@dataclass(frozen=True)
class SegmentFilter:
    """A broadcast segment in storage terms (the service builds it from the owner's choice)."""

    language: str | None = None
    tier: int | None = None
    inactive_before: datetime | None = None  # no purchase (or, never buying, no joining) since
    never_purchased: bool = False
    birthdays: Sequence[Any] | None = None  # Celebration-like terms
    min_tier: int | None = None  # this tier and above (a broadcast's "top tiers first" group)


def _activity() -> Any:
    return func.coalesce(Member.last_purchase_at, Member.joined_at)


class AudienceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def birthdays(self, keys: Iterable[Any]) -> list[Any]:
        return list((await self.session.execute(birthday_statement(keys))).all())

    async def set_birthday(self, member_id: int, birth: Any, *, only_if_unset: bool) -> bool:
        """Store a birthday (`birth` has calendar, year, month, day); with
        `only_if_unset`, only when none is saved: a guarded UPDATE, so two
        confirmations racing each other save once."""
        stmt = update(Member).where(Member.id == member_id)
        if only_if_unset:
            stmt = stmt.where(Member.birth_calendar.is_(None))
        result = await self.session.execute(
            stmt.values(
                birth_calendar=birth.calendar, birth_year=birth.year, birth_month=birth.month, birth_day=birth.day
            ).execution_options(synchronize_session=False)
        )
        return affected(result) == 1

    async def birthday_bonus_since(self, member_id: int, since: datetime) -> bool:
        """Whether the member got a birthday bonus after `since` (whatever its key)."""
        stmt = (
            select(LedgerEntry.id)
            .where(LedgerEntry.member_id == member_id, LedgerEntry.kind == "birthday", LedgerEntry.created_at > since)
            .limit(1)
        )
        return await self.session.scalar(stmt) is not None

    async def lapsed(self, *, since: datetime, until: datetime) -> list[Any]:
        """Opted-in, reachable members whose last purchase (or joining, if they never
        bought) lies in (since, until]: their inactivity crossed the line in that window."""
        stmt = (
            select(Member.id, Member.telegram_id, Member.first_name, Member.last_purchase_at, Member.joined_at)
            .where(
                or_(
                    and_(Member.last_purchase_at > since, Member.last_purchase_at <= until),
                    and_(Member.last_purchase_at.is_(None), Member.joined_at > since, Member.joined_at <= until),
                ),
                reachable(),
                Member.marketing_opt_in.is_(True),
                Member.blocked_at.is_(None),
            )
            .order_by(Member.id)
        )
        return list((await self.session.execute(stmt)).all())

    # -- broadcast segments ------------------------------------------------------------
    @staticmethod
    def _segment(columns: Sequence[Any], segment: SegmentFilter) -> Select[Any]:
        conditions: list[Any] = [reachable()]
        if segment.language is not None:
            conditions.append(Member.language == segment.language)
        if segment.tier is not None:
            conditions.append(Member.tier == segment.tier)
        if segment.inactive_before is not None:
            conditions.append(
                or_(
                    Member.last_purchase_at <= segment.inactive_before,
                    and_(Member.last_purchase_at.is_(None), Member.joined_at <= segment.inactive_before),
                )
            )
        if segment.never_purchased:
            conditions.append(Member.last_purchase_at.is_(None))
        if segment.birthdays is not None:
            conditions.append(birthday_condition(segment.birthdays))
        if segment.min_tier is not None:
            conditions.append(Member.tier >= segment.min_tier)
        return select(*columns).where(*conditions)

    async def segment_counts(self, **criteria: Any) -> dict[str, Any]:
        """How many members a segment has, how many can get marketing, per language.

        `criteria` are the fields of `SegmentFilter`.
        """
        segment = SegmentFilter(**criteria)
        stmt = self._segment(
            [
                Member.language,
                func.count().label("total"),
                func.sum(case((and_(Member.marketing_opt_in.is_(True), Member.blocked_at.is_(None)), 1), else_=0)),
                func.sum(case((Member.blocked_at.is_not(None), 1), else_=0)),
            ],
            segment,
        ).group_by(Member.language)
        counts: dict[str, Any] = {"total": 0, "reachable": 0, "blocked": 0, "by_language": {}}
        for language, total, ready, blocked in (await self.session.execute(stmt)).all():
            counts["total"] += int(total)
            counts["reachable"] += int(ready or 0)
            counts["blocked"] += int(blocked or 0)
            counts["by_language"][language] = int(ready or 0)
        counts["opted_out"] = counts["total"] - counts["reachable"] - counts["blocked"]
        return counts

    async def segment_members(self, **criteria: Any) -> list[Any]:
        segment = SegmentFilter(**criteria)
        stmt = self._segment(
            [Member.id, Member.telegram_id, Member.language, Member.marketing_opt_in, Member.blocked_at, Member.tier],
            segment,
        ).order_by(Member.id)
        return list((await self.session.execute(stmt)).all())
