from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Reward, Setting
from storage.sql import affected, insert_ignoring_conflicts


class RewardRepository:
    """The rewards catalog (SPEC §4 `/rewards_admin`)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def seed(self, values: dict[str, Any]) -> bool:
        """Insert a reward from the program unless its seed id exists; True if inserted."""
        stmt = insert_ignoring_conflicts(self.session, Reward, values).returning(Reward.id)
        return await self.session.scalar(stmt) is not None

    async def create(self, **values: Any) -> Reward:
        reward = Reward(**values)
        self.session.add(reward)
        await self.session.flush()
        return reward

    async def get(self, reward_id: int) -> Reward | None:
        return await self.session.get(Reward, reward_id)

    async def by_seed(self, seed_id: str) -> Reward | None:
        """The catalog row the program's [[rewards]] id seeded."""
        return await self.session.scalar(select(Reward).where(Reward.seed_id == seed_id))

    async def all(self) -> list[Reward]:
        return list(await self.session.scalars(select(Reward).order_by(Reward.cost, Reward.id)))

    async def active(self) -> list[Reward]:
        """Active rewards by cost; the caller applies the availability window."""
        stmt = select(Reward).where(Reward.active.is_(True)).order_by(Reward.cost, Reward.id)
        return list(await self.session.scalars(stmt))

    async def update(self, reward_id: int, **values: Any) -> bool:
        result = await self.session.execute(
            update(Reward).where(Reward.id == reward_id).values(**values).execution_options(synchronize_session=False)
        )
        return affected(result) == 1

    async def take_one(self, reward_id: int) -> bool:
        """One unit out of stock; False when none is left. Unlimited rewards always succeed.

        The guard is in the WHERE clause: two members racing for the last unit
        cannot both pass it (the row is locked by the first UPDATE).
        """
        result = await self.session.execute(
            update(Reward)
            .where(Reward.id == reward_id, (Reward.stock.is_(None)) | (Reward.stock > 0))
            .values(stock=Reward.stock - 1)
            .execution_options(synchronize_session=False)
        )
        return affected(result) == 1

    async def put_back(self, reward_id: int) -> None:
        """A unit comes back (its voucher expired unused); unlimited stays unlimited."""
        await self.session.execute(
            update(Reward)
            .where(Reward.id == reward_id, Reward.stock.is_not(None))
            .values(stock=Reward.stock + 1)
            .execution_options(synchronize_session=False)
        )

    async def claim_setting(self, key: str, value: Any, *, now: datetime) -> Any:
        """Store `value` under `key` unless some value is there already (first writer
        wins, safe with several replicas starting at once); returns the stored value."""
        await self.session.execute(
            insert_ignoring_conflicts(self.session, Setting, {"key": key, "value": value, "updated_at": now})
        )
        row = await self.session.get(Setting, key, populate_existing=True)
        return row.value if row is not None else value
