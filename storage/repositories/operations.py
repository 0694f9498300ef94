from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage


class OperationsRepository:
    """What operators watch: the database answering, the outbox by status (/readyz, /metrics)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def ping(self) -> None:
        await self.session.execute(text("SELECT 1"))

    async def outbox_by_status(self) -> dict[str, int]:
        # The (status, not_before) index makes this an index-only count.
        rows = await self.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
        return {status: int(count) for status, count in rows.all()}
