from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Voucher
from storage.sql import affected, insert_ignoring_conflicts

COUNTED = ("active", "used")  # vouchers that count toward a per-member limit


class VoucherRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, **values: Any) -> Voucher | None:
        """Insert a voucher; None if its code is taken (the caller draws another)."""
        stmt = insert_ignoring_conflicts(self.session, Voucher, values).returning(Voucher.id)
        voucher_id = await self.session.scalar(stmt)
        return await self.session.get(Voucher, voucher_id) if voucher_id is not None else None

    async def by_code(self, code: str) -> Voucher | None:
        return await self.session.scalar(select(Voucher).where(Voucher.code == code))

    async def by_id(self, voucher_id: int) -> Voucher | None:
        return await self.session.get(Voucher, voucher_id)

    async def reload(self, voucher_id: int) -> Voucher:
        """The row as the database has it now (after a Core UPDATE)."""
        voucher = await self.session.get(Voucher, voucher_id, populate_existing=True)
        assert voucher is not None
        return voucher

    async def for_member(self, member_id: int) -> list[Voucher]:
        stmt = select(Voucher).where(Voucher.member_id == member_id).order_by(Voucher.id)
        return list(await self.session.scalars(stmt))

    async def taken(self, member_id: int, reward_id: int) -> int:
        """The member's vouchers of this reward that count toward its per-member limit
        (redeemed with points: a voucher given by a stamp card or a milestone does not)."""
        stmt = select(func.count(Voucher.id)).where(
            Voucher.member_id == member_id, Voucher.reward_id == reward_id, Voucher.status.in_(COUNTED),
            Voucher.source.is_(None),
        )
        return int(await self.session.scalar(stmt) or 0)

    async def taken_by_reward(self, member_id: int) -> dict[int, int]:
        stmt = (
            select(Voucher.reward_id, func.count(Voucher.id))
            .where(Voucher.member_id == member_id, Voucher.status.in_(COUNTED), Voucher.source.is_(None))
            .group_by(Voucher.reward_id)
        )
        return {reward_id: int(n) for reward_id, n in (await self.session.execute(stmt)).all()}

    async def active_for(self, member_id: int, *, now: datetime, limit: int = 20) -> list[Voucher]:
        stmt = (
            select(Voucher)
            .where(Voucher.member_id == member_id, Voucher.status == "active", Voucher.expires_at > now)
            .order_by(Voucher.expires_at, Voucher.id)
            .limit(limit)
        )
        return list(await self.session.scalars(stmt))

    async def by_codes(self, codes: list[str]) -> list[Voucher]:
        if not codes:
            return []
        return list(await self.session.scalars(select(Voucher).where(Voucher.code.in_(codes))))

    async def mark_used(self, voucher_id: int, *, now: datetime, staff_id: int, key: str) -> bool:
        """Active and not expired → used, once: the WHERE clause decides between two cashiers."""
        result = await self.session.execute(
            update(Voucher)
            .where(Voucher.id == voucher_id, Voucher.status == "active", Voucher.expires_at > now)
            .values(status="used", used_at=now, validated_by=staff_id, redeem_key=key)
            .execution_options(synchronize_session=False)
        )
        return affected(result) == 1

    async def expiring(self, cutoff: datetime, *, limit: int) -> list[tuple[int, int]]:
        """(voucher id, member id) of active vouchers whose validity ended by `cutoff`."""
        stmt = (
            select(Voucher.id, Voucher.member_id)
            .where(Voucher.status == "active", Voucher.expires_at <= cutoff)
            .order_by(Voucher.expires_at, Voucher.id)
            .limit(limit)
        )
        return [(row.id, row.member_id) for row in (await self.session.execute(stmt)).all()]

    async def mark_expired(self, voucher_id: int, *, cutoff: datetime, refunded: int) -> bool:
        result = await self.session.execute(
            update(Voucher)
            .where(Voucher.id == voucher_id, Voucher.status == "active", Voucher.expires_at <= cutoff)
            .values(status="expired", refunded_points=refunded)
            .execution_options(synchronize_session=False)
        )
        return affected(result) == 1
