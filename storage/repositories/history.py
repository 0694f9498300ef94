from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LedgerEntry


class HistoryRepository:
    """A member's ledger one page at a time, by keyset on the (member_id, id) index."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def older(self, member_id: int, *, before_id: int | None, limit: int) -> list[LedgerEntry]:
        """Newest first, entries before `before_id` (None: from the newest)."""
        stmt = select(LedgerEntry).where(LedgerEntry.member_id == member_id)
        if before_id is not None:
            stmt = stmt.where(LedgerEntry.id < before_id)
        return list(await self.session.scalars(stmt.order_by(LedgerEntry.id.desc()).limit(limit)))

    async def newer(self, member_id: int, *, after_id: int, limit: int) -> list[LedgerEntry]:
        """Newest first, the `limit` entries just after `after_id`."""
        stmt = (
            select(LedgerEntry)
            .where(LedgerEntry.member_id == member_id, LedgerEntry.id > after_id)
            .order_by(LedgerEntry.id)
            .limit(limit)
        )
        return list(reversed(list(await self.session.scalars(stmt))))
