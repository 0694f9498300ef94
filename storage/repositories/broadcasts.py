from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Broadcast
from storage.sql import affected, insert_ignoring_conflicts


class BroadcastRepository:
    """Owners' broadcasts; each status change is a guarded UPDATE, so two
    replicas never release or report the same broadcast twice."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, **values: Any) -> Broadcast | None:
        """Insert a broadcast; None when its key (the owner's one-time button) was used."""
        values.setdefault("audience", 0)
        stmt = insert_ignoring_conflicts(self.session, Broadcast, values).returning(Broadcast.id)
        broadcast_id = await self.session.scalar(stmt)
        return await self.session.get(Broadcast, broadcast_id) if broadcast_id is not None else None

    async def by_id(self, broadcast_id: int) -> Broadcast | None:
        return await self.session.get(Broadcast, broadcast_id, populate_existing=True)

    async def by_key(self, key: str) -> Broadcast | None:
        return await self.session.scalar(select(Broadcast).where(Broadcast.key == key))

    async def due(self, *, now: datetime, limit: int = 10) -> list[Broadcast]:
        stmt = (
            select(Broadcast)
            .where(Broadcast.status == "scheduled", Broadcast.send_at <= now)
            .order_by(Broadcast.send_at, Broadcast.id)
            .limit(limit)
        )
        return list(await self.session.scalars(stmt))

    async def sending(self) -> list[Broadcast]:
        return list(await self.session.scalars(select(Broadcast).where(Broadcast.status == "sending")))

    async def _move(self, broadcast_id: int, old: str, **values: Any) -> bool:
        result = await self.session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id, Broadcast.status == old)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return affected(result) == 1

    async def start(self, broadcast_id: int, *, now: datetime) -> bool:
        return await self._move(broadcast_id, "scheduled", status="sending", started_at=now)

    async def set_audience(self, broadcast_id: int, audience: int) -> None:
        await self.session.execute(
            update(Broadcast).where(Broadcast.id == broadcast_id).values(audience=audience)
            .execution_options(synchronize_session=False)
        )

    async def finish(self, broadcast_id: int, *, now: datetime, report: dict[str, int]) -> bool:
        return await self._move(broadcast_id, "sending", status="done", finished_at=now, report=report)

    async def cancel(self, broadcast_id: int, *, now: datetime) -> bool:
        return await self._move(broadcast_id, "scheduled", status="cancelled", finished_at=now)
