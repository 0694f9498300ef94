from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.delivery import DeliveryStatus
from storage.models import LedgerEntry, OutboxMessage
from storage.sql import affected


class PrivacyRepository:
    """Queries behind /mydata and /forget that read across features."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def ledger_of(self, member_id: int) -> list[LedgerEntry]:
        stmt = select(LedgerEntry).where(LedgerEntry.member_id == member_id).order_by(LedgerEntry.id)
        return list(await self.session.scalars(stmt))

    async def messages_to(self, member_id: int) -> list[OutboxMessage]:
        stmt = select(OutboxMessage).where(OutboxMessage.member_id == member_id).order_by(OutboxMessage.id)
        return list(await self.session.scalars(stmt))

    async def cancel_pending_messages(self, member_id: int, *, now: datetime) -> int:
        """Messages not sent yet to a member who asked to be forgotten are dropped."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.member_id == member_id, OutboxMessage.status == DeliveryStatus.PENDING)
            .values(status=DeliveryStatus.CANCELLED, last_error="the member erased their data")
            .execution_options(synchronize_session=False)
        )
        return affected(result)
