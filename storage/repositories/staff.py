from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Staff
from storage.sql import affected, insert_ignoring_conflicts


class StaffRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def is_staff(self, telegram_id: int) -> bool:
        return await self.session.get(Staff, telegram_id) is not None

    async def add(self, telegram_id: int, *, added_by: int, now: datetime) -> bool:
        stmt = insert_ignoring_conflicts(
            self.session, Staff, {"telegram_id": telegram_id, "added_by": added_by, "added_at": now}
        ).returning(Staff.telegram_id)
        return await self.session.scalar(stmt) is not None

    async def remove(self, telegram_id: int) -> bool:
        result = await self.session.execute(delete(Staff).where(Staff.telegram_id == telegram_id))
        return affected(result) == 1

    async def all(self) -> list[Staff]:
        return list(await self.session.scalars(select(Staff).order_by(Staff.added_at)))
