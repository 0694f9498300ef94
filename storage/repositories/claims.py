from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import PhoneClaim, ShopOrder
from storage.sql import affected


class ClaimRepository:
    """Points waiting for a phone number no member has yet (SPEC §9.3)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(
        self, *, order_id: int, phone: str, points: int, now: datetime, expires_at: datetime | None
    ) -> PhoneClaim:
        claim = PhoneClaim(
            order_id=order_id, phone=phone, points=points, status="pending", created_at=now, expires_at=expires_at
        )
        self.session.add(claim)
        await self.session.flush()
        return claim

    async def for_order(self, order_id: int) -> PhoneClaim | None:
        return await self.session.scalar(select(PhoneClaim).where(PhoneClaim.order_id == order_id))

    async def pending_for(self, phone: str, *, now: datetime, lock: bool = False) -> list[tuple[PhoneClaim, ShopOrder]]:
        """Claims for `phone` that can still be credited, oldest first; `lock=True`
        holds them (FOR UPDATE) so two replicas cannot credit one claim twice."""
        stmt = (
            select(PhoneClaim, ShopOrder)
            .join(ShopOrder, ShopOrder.id == PhoneClaim.order_id)
            .where(
                PhoneClaim.phone == phone,
                PhoneClaim.status == "pending",
                or_(PhoneClaim.expires_at.is_(None), PhoneClaim.expires_at > now),
            )
            .order_by(PhoneClaim.id)
        )
        if lock:
            stmt = stmt.with_for_update(of=PhoneClaim).execution_options(populate_existing=True)
        return [(claim, order) for claim, order in (await self.session.execute(stmt)).all()]

    async def of_member(self, member_id: int, phone: str | None) -> list[tuple[PhoneClaim, ShopOrder]]:
        """Claims credited to the member, and any still waiting for their phone."""
        condition = PhoneClaim.member_id == member_id
        if phone:
            condition = or_(condition, PhoneClaim.phone == phone)
        stmt = (
            select(PhoneClaim, ShopOrder)
            .join(ShopOrder, ShopOrder.id == PhoneClaim.order_id)
            .where(condition)
            .order_by(PhoneClaim.id)
        )
        return [(claim, order) for claim, order in (await self.session.execute(stmt)).all()]

    async def waiting_for(self, phone: str, *, now: datetime) -> tuple[int, int]:
        """(claims, points) waiting for `phone` now."""
        rows = await self.pending_for(phone, now=now)
        return len(rows), sum(claim.points for claim, _order in rows)

    async def expire(self, *, now: datetime) -> int:
        """Pending claims past the program's expiry end, and forget their phone."""
        result = await self.session.execute(
            update(PhoneClaim)
            .where(PhoneClaim.status == "pending", PhoneClaim.expires_at.is_not(None), PhoneClaim.expires_at <= now)
            .values(status="expired", phone=None)
            .execution_options(synchronize_session=False)
        )
        return affected(result)

    async def erase(self, member_id: int, phone: str | None) -> int:
        """/forget: the phone goes from the member's claims; waiting ones are dropped."""
        count = 0
        result = await self.session.execute(
            update(PhoneClaim)
            .where(PhoneClaim.member_id == member_id)
            .values(phone=None)
            .execution_options(synchronize_session=False)
        )
        count += affected(result)
        if phone:
            result = await self.session.execute(
                update(PhoneClaim)
                .where(PhoneClaim.phone == phone, PhoneClaim.status == "pending")
                .values(phone=None, status="erased")
                .execution_options(synchronize_session=False)
            )
            count += affected(result)
        return count
