from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Campaign, Member
from storage.sql import affected, insert_ignoring_conflicts


class CampaignRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def active(self, now: datetime) -> Campaign | None:
        """The campaign running at `now` (the newest, if several overlap)."""
        stmt = (
            select(Campaign)
            .where(Campaign.ended_at.is_(None), Campaign.starts_at <= now, Campaign.ends_at > now)
            .order_by(Campaign.id.desc())
            .limit(1)
        )
        return await self.session.scalar(stmt)

    async def by_key(self, key: str) -> Campaign | None:
        return await self.session.scalar(select(Campaign).where(Campaign.key == key))

    async def start(
        self, *, key: str, multiplier: Decimal, starts_at: datetime, ends_at: datetime, actor_id: int
    ) -> Campaign | None:
        """A new campaign under the command's key; None if that key started one already."""
        values = {
            "key": key, "multiplier": multiplier, "starts_at": starts_at, "ends_at": ends_at, "created_by": actor_id,
        }
        campaign_id = await self.session.scalar(
            insert_ignoring_conflicts(self.session, Campaign, values).returning(Campaign.id)
        )
        return await self.session.get(Campaign, campaign_id) if campaign_id is not None else None

    async def end_running(self, now: datetime, *, actor_id: int, except_id: int | None = None) -> int:
        """End every campaign running at `now`; returns how many."""
        stmt = update(Campaign).where(Campaign.ended_at.is_(None), Campaign.ends_at > now)
        if except_id is not None:
            stmt = stmt.where(Campaign.id != except_id)
        result = await self.session.execute(
            stmt.values(ended_at=now, ended_by=actor_id).execution_options(synchronize_session=False)
        )
        return affected(result)

    async def audience(self, *, after_member: int = 0, limit: int = 1000) -> list[tuple[int, int]]:
        """(member id, chat id) of members who accept offers and can be reached."""
        stmt = (
            select(Member.id, Member.telegram_id)
            .where(
                Member.marketing_opt_in.is_(True),
                Member.telegram_id.is_not(None),
                Member.blocked_at.is_(None),
                Member.forgotten_at.is_(None),
                Member.id > after_member,
            )
            .order_by(Member.id)
            .limit(limit)
        )
        return [(row.id, row.telegram_id) for row in (await self.session.execute(stmt)).all()]
