from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member, TierEvent


class TierEventRepository:
    """Tier changes, newest last; the latest event of a member holds its tier period."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self,
        *,
        member_id: int,
        from_tier: int,
        to_tier: int,
        reason: str,
        earned: int,
        held_until: datetime | None,
        now: datetime,
    ) -> int:
        event = TierEvent(
            member_id=member_id, from_tier=from_tier, to_tier=to_tier, reason=reason, earned=earned,
            held_until=held_until, created_at=now,
        )
        self.session.add(event)
        await self.session.flush()
        return event.id

    async def current_tier(self, member_id: int) -> int:
        """The member's stored tier, read fresh (not from an object loaded earlier)."""
        return int(await self.session.scalar(select(Member.tier).where(Member.id == member_id)) or 0)

    async def latest(self, member_id: int) -> TierEvent | None:
        stmt = select(TierEvent).where(TierEvent.member_id == member_id).order_by(TierEvent.id.desc()).limit(1)
        return await self.session.scalar(stmt)

    async def for_member(self, member_id: int) -> list[TierEvent]:
        stmt = select(TierEvent).where(TierEvent.member_id == member_id).order_by(TierEvent.id)
        return list(await self.session.scalars(stmt))

    async def due_for_review(self, now: datetime, *, after_member: int = 0, limit: int = 500) -> list[int]:
        """Members above the first tier whose tier period has ended (or who never had one)."""
        latest = (
            select(TierEvent.held_until)
            .where(TierEvent.member_id == Member.id)
            .order_by(TierEvent.id.desc())
            .limit(1)
            .correlate(Member)
            .scalar_subquery()
        )
        stmt = (
            select(Member.id)
            .where(Member.tier > 0, Member.id > after_member, or_(latest.is_(None), latest <= now))
            .order_by(Member.id)
            .limit(limit)
        )
        return list(await self.session.scalars(stmt))
