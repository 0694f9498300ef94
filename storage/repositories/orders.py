from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OrderRefund, ShopOrder
from storage.sql import insert_ignoring_conflicts


class OrderRepository:
    """Purchases and refunds from the shop's systems, keyed by (source, reference)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, source: str, reference: str, *, lock: bool = False) -> ShopOrder | None:
        """The order; `lock=True` holds its row until the transaction ends (PostgreSQL's
        FOR UPDATE; SQLite's BEGIN IMMEDIATE already serialises writers), so two
        refunds of one order cannot both pass the "not more than the order" check."""
        stmt = select(ShopOrder).where(ShopOrder.source == source, ShopOrder.reference == reference)
        if lock:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return await self.session.scalar(stmt)

    async def by_id(self, order_id: int) -> ShopOrder | None:
        return await self.session.get(ShopOrder, order_id)

    async def create(self, **values: Any) -> ShopOrder | None:
        """Insert the order; None when (source, reference) exists (a replay, or a race lost)."""
        stmt = insert_ignoring_conflicts(self.session, ShopOrder, values).returning(ShopOrder.id)
        order_id = await self.session.scalar(stmt)
        return await self.session.get(ShopOrder, order_id) if order_id is not None else None

    async def refund(self, source: str, reference: str) -> OrderRefund | None:
        return await self.session.scalar(
            select(OrderRefund).where(OrderRefund.source == source, OrderRefund.reference == reference)
        )

    async def create_refund(self, **values: Any) -> OrderRefund | None:
        stmt = insert_ignoring_conflicts(self.session, OrderRefund, values).returning(OrderRefund.id)
        refund_id = await self.session.scalar(stmt)
        return await self.session.get(OrderRefund, refund_id) if refund_id is not None else None

    async def for_member(self, member_id: int) -> list[ShopOrder]:
        stmt = select(ShopOrder).where(ShopOrder.member_id == member_id).order_by(ShopOrder.id)
        return list(await self.session.scalars(stmt))

    async def assign(self, order_ids: list[int], member_id: int) -> None:
        """Orders whose claim was credited now belong to the member."""
        if order_ids:
            await self.session.execute(
                update(ShopOrder)
                .where(ShopOrder.id.in_(order_ids))
                .values(member_id=member_id)
                .execution_options(synchronize_session=False)
            )

    async def erase_notes(self, member_id: int) -> None:
        # Free text a POS sent with the member's purchases may name them (/forget).
        await self.session.execute(
            update(ShopOrder)
            .where(ShopOrder.member_id == member_id, ShopOrder.note.is_not(None))
            .values(note=None)
            .execution_options(synchronize_session=False)
        )
