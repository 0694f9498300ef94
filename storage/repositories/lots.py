from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member, PointLot


class LotRepository:
    """What is left of each expiring credit (`bot.domain.expiry`). Moves only
    inside `bot.services.ledger.credit/debit`, in the same transaction as the
    ledger entry and the balance."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open(self, *, member_id: int, entry_id: int, expires_at: datetime, amount: int) -> None:
        await self.session.execute(
            insert(PointLot).values(entry_id=entry_id, member_id=member_id, expires_at=expires_at, remaining=amount)
        )

    async def consume(self, member_id: int, amount: int) -> int:
        """Take up to `amount` from the member's lots, soonest-expiring first; returns
        what the lots covered (the rest came from points that never expire).

        Called after the balance UPDATE, which holds the member's row: two
        spenders of one member never interleave here.
        """
        covered = 0
        while covered < amount:
            rows = (
                await self.session.execute(
                    select(PointLot.entry_id, PointLot.remaining)
                    .where(PointLot.member_id == member_id)
                    .order_by(PointLot.expires_at, PointLot.entry_id)
                    .limit(50)
                )
            ).all()
            if not rows:
                break
            for entry_id, remaining in rows:
                bite = min(remaining, amount - covered)
                covered += bite
                if bite == remaining:
                    await self.session.execute(delete(PointLot).where(PointLot.entry_id == entry_id))
                else:
                    await self.session.execute(
                        update(PointLot)
                        .where(PointLot.entry_id == entry_id)
                        .values(remaining=PointLot.remaining - bite)
                        .execution_options(synchronize_session=False)
                    )
                if covered == amount:
                    break
        return covered

    async def due(self, member_id: int, cutoff: datetime) -> int:
        """Points of the member whose expiry is at or before `cutoff`."""
        stmt = select(func.coalesce(func.sum(PointLot.remaining), 0)).where(
            PointLot.member_id == member_id, PointLot.expires_at <= cutoff
        )
        return int(await self.session.scalar(stmt) or 0)

    async def members_due(self, cutoff: datetime, *, after_member: int = 0, limit: int = 500) -> list[int]:
        """Members with points expired by `cutoff`, in id order from `after_member`."""
        stmt = (
            select(PointLot.member_id)
            .where(PointLot.expires_at <= cutoff, PointLot.member_id > after_member)
            .group_by(PointLot.member_id)
            .order_by(PointLot.member_id)
            .limit(limit)
        )
        return list(await self.session.scalars(stmt))

    async def expiring_between(
        self, start: datetime, end: datetime, *, after_member: int = 0, limit: int = 500
    ) -> list[tuple[int, int, int, datetime]]:
        """(member id, Telegram id, points, first expiry) of reachable members with
        points expiring in [start, end), in member order from `after_member`."""
        stmt = (
            select(Member.id, Member.telegram_id, func.sum(PointLot.remaining), func.min(PointLot.expires_at))
            .join(Member, Member.id == PointLot.member_id)
            .where(
                PointLot.expires_at >= start,
                PointLot.expires_at < end,
                PointLot.member_id > after_member,
                Member.telegram_id.is_not(None),
                Member.forgotten_at.is_(None),
            )
            .group_by(Member.id, Member.telegram_id)
            .order_by(Member.id)
            .limit(limit)
        )
        rows = (await self.session.execute(stmt)).all()
        return [(member_id, chat_id, int(points), _aware(first)) for member_id, chat_id, points, first in rows
                if chat_id is not None]  # the query keeps only members with a Telegram id

    async def expiring_for(self, member_id: int, until: datetime) -> tuple[int, datetime | None]:
        """(points, first expiry) of the member's points expiring before `until`."""
        stmt = select(func.coalesce(func.sum(PointLot.remaining), 0), func.min(PointLot.expires_at)).where(
            PointLot.member_id == member_id, PointLot.expires_at < until
        )
        points, first = (await self.session.execute(stmt)).one()
        return int(points or 0), _aware(first) if first is not None else None

    async def lock_member(self, member_id: int) -> Member | None:
        """The member's row, locked until the transaction ends (PostgreSQL's
        FOR UPDATE; SQLite's BEGIN IMMEDIATE already serialises writers), so
        what is due cannot change between reading it and expiring it."""
        stmt = select(Member).where(Member.id == member_id).with_for_update().execution_options(populate_existing=True)
        return await self.session.scalar(stmt)

    async def for_member(self, member_id: int) -> list[PointLot]:
        stmt = select(PointLot).where(PointLot.member_id == member_id).order_by(PointLot.expires_at, PointLot.entry_id)
        return list(await self.session.scalars(stmt))


def _aware(value: datetime) -> datetime:
    # A defensive belt: aggregates can hand back naive UTC (or text on SQLite).
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
