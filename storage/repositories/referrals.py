from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member, ReferralConversion
from storage.sql import insert_ignoring_conflicts


class ReferralRepository:
    """Referral conversions: one row per referred friend's first qualifying purchase."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_referrer(self, member_id: int) -> None:
        """Serialise payouts per referrer, so two friends buying at once cannot both slip
        under the monthly cap (`FOR UPDATE` on PostgreSQL; SQLite writers are serial anyway)."""
        await self.session.execute(select(Member.id).where(Member.id == member_id).with_for_update())

    async def converted(self, referee_id: int) -> bool:
        return await self.session.get(ReferralConversion, referee_id) is not None

    async def record(
        self, *, referee_id: int, referrer_id: int, outcome: str, referrer_points: int, referee_points: int,
        now: datetime,
    ) -> bool:
        """Write the friend's conversion; False when it exists (the payout happened before)."""
        values = {
            "referee_id": referee_id,
            "referrer_id": referrer_id,
            "outcome": outcome,
            "referrer_points": referrer_points,
            "referee_points": referee_points,
            "converted_at": now,
        }
        stmt = insert_ignoring_conflicts(self.session, ReferralConversion, values).returning(
            ReferralConversion.referee_id
        )
        return await self.session.scalar(stmt) is not None

    async def rewarded_since(self, referrer_id: int, since: datetime) -> int:
        stmt = select(func.count()).where(
            ReferralConversion.referrer_id == referrer_id,
            ReferralConversion.outcome == "rewarded",
            ReferralConversion.converted_at >= since,
        )
        return int(await self.session.scalar(stmt) or 0)

    async def referrer_chain(self, member_id: int, *, limit: int) -> list[int]:
        """`member_id`, its referrer, their referrer, … (stops at a repeat or after `limit`)."""
        chain = [member_id]
        current: int | None = member_id
        while len(chain) < limit:
            current = await self.session.scalar(select(Member.referrer_id).where(Member.id == current))
            if current is None or current in chain:
                break
            chain.append(current)
        return chain

    async def summary(self, referrer_id: int) -> tuple[int, int, int]:
        """(friends joined, friends who made a qualifying purchase, points the referrer earned)."""
        joined = await self.session.scalar(select(func.count()).where(Member.referrer_id == referrer_id))
        converted, points = (
            await self.session.execute(
                select(func.count(), func.coalesce(func.sum(ReferralConversion.referrer_points), 0)).where(
                    ReferralConversion.referrer_id == referrer_id
                )
            )
        ).one()
        return int(joined or 0), int(converted or 0), int(points or 0)
